/**
 * The signals that stop `castellan up` in order: Ctrl-C, `kill`, and the terminal closing (SIGHUP,
 * which would otherwise end `up` at once and leave its children — each in a process group of its
 * own, out of the terminal's reach — to notice on their own).
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Thrown into a step of the start when a stop signal arrives meanwhile. */
export class StopRequested extends Error {
  override readonly name = 'StopRequested';
}

export interface StopRequest {
  /** Resolves on the first stop signal. */
  readonly requested: Promise<void>;
  /** `work`, unless a stop signal comes first: then rejects with {@link StopRequested}. */
  unlessStopped<T>(work: Promise<T>): Promise<T>;
  /** Restores the default handling of the signals. */
  dispose(): void;
}

/** Listens for the stop signals from now on, the start of `up` included. */
export function listenForStop(): StopRequest {
  let signalled!: () => void;
  const requested = new Promise<void>((resolve) => (signalled = resolve));
  for (const signal of STOP_SIGNALS) process.on(signal, signalled);
  // Once the terminal is gone, writing to it fails (EIO, EPIPE): the stop goes on without output.
  const lostOutput = () => undefined;
  process.stdout.on('error', lostOutput);
  process.stderr.on('error', lostOutput);
  const stopped = requested.then(() => {
    throw new StopRequested('stop requested');
  });
  // Only ever seen through unlessStopped.
  stopped.catch(() => undefined);
  return {
    requested,
    unlessStopped: (work) => Promise.race([work, stopped]),
    dispose() {
      for (const signal of STOP_SIGNALS) process.off(signal, signalled);
      process.stdout.off('error', lostOutput);
      process.stderr.off('error', lostOutput);
    },
  };
}
