import { messageOf } from '@castellan/proto';
import { Backoff } from '@castellan/service-host';
import { formatDelay } from './backoff.js';

/**
 * A child that ran this long before it died was working: its next restart waits the shortest
 * delay again rather than the doubled one meant for a child that dies as soon as it starts.
 */
const STABLE_AFTER_MS = 30_000;

/** A child process as the supervisor sees it. */
export interface SupervisedProcess {
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Asks it to stop; kills it once `graceMs` (the process's own default when not given) is over. */
  stop(graceMs?: number): Promise<void>;
}

export interface SupervisorOptions {
  /** Where the one-line notices go (up's stderr). */
  say: (line: string) => void;
  backoff?: Backoff;
  stableAfterMs?: number;
  /**
   * Aborted when `castellan up` begins to stop: no child is restarted from then on, even one that
   * dies while the others are still draining (each is stopped later, in order).
   */
  stopping?: AbortSignal;
}

export interface Supervisor {
  /** Restarts no more, then stops the process running now (waiting for one being started). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Keeps a child of `castellan up` running: when `first` (started and checked by the caller, so a
 * failure at start is still the caller's to report) or any later process dies, says so and runs
 * `restart` after a backoff. A restart that fails is retried the same way.
 */
export function supervise<P extends SupervisedProcess>(
  name: string,
  first: P,
  restart: () => Promise<P>,
  options: SupervisorOptions,
): Supervisor {
  const { say, backoff = new Backoff(), stableAfterMs = STABLE_AFTER_MS, stopping } = options;
  let current = first;
  let starting: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const halted = () => stopped || stopping?.aborted === true;
  stopping?.addEventListener('abort', () => clearTimeout(timer), { once: true });

  const retryLater = (what: string) => {
    const delay = backoff.next();
    say(`castellan: the ${name} ${what}; restarting in ${formatDelay(delay)}`);
    timer = setTimeout(() => void attempt(), delay);
  };
  const watch = (process: P) => {
    const startedAt = Date.now();
    void process.exited.then((status) => {
      if (halted()) return;
      if (Date.now() - startedAt >= stableAfterMs) backoff.reset();
      retryLater(`stopped unexpectedly (${typeof status === 'number' ? 'code' : 'signal'} ${status})`);
    });
  };
  const attempt = async () => {
    if (halted()) return;
    const next = restart().then((process) => (current = process));
    starting = next;
    try {
      const process = await next;
      if (!halted()) watch(process);
    } catch (error) {
      if (!halted()) retryLater(`could not restart (${messageOf(error)})`);
    }
  };

  watch(first);
  return {
    async stop(graceMs) {
      stopped = true;
      clearTimeout(timer);
      await starting?.catch(() => undefined);
      await current.stop(graceMs);
    },
  };
}
