import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** A child of `castellan up`, tethered to it. */
export interface TetheredChild {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM; SIGKILL to its whole process group once `graceMs` is over. */
  stop(graceMs: number): Promise<void>;
}

export interface TetheredChildOptions {
  env?: Record<string, string>;
  /** What becomes of its stdout (stderr is always piped to `castellan up`). */
  stdout: 'pipe' | 'ignore';
}

/**
 * Starts a child of `castellan up`:
 * - in its own process group, so Ctrl-C reaches only `up`, which stops the children in order;
 * - tethered: its stdin is a pipe `up` never writes to nor closes. The kernel closes it when `up`
 *   dies, however it dies (kill -9 included), and the child takes that as the order to stop
 *   (`onParentGone` in service-host: `CASTELLAN_EXIT_WITH_PARENT` for the
 *   services, `tether.js` for nats-server).
 */
export function spawnTethered(command: string, args: string[], options: TetheredChildOptions): TetheredChild {
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', options.stdout, 'pipe'],
    detached: true,
  });
  // Nothing is ever written: a child gone before `up` must not make the pipe's EPIPE an uncaught error.
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    child,
    exited,
    async stop(graceMs) {
      if (hasExited(child)) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => killGroup(child), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** The whole group: a tether killed this way takes its nats-server along. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
