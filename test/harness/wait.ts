import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Default 25 s: the machine running the tests is shared and often loaded. */
  timeoutMs?: number;
  /** Default 100 ms. */
  intervalMs?: number;
  /** What to add to the timeout's message (the output of the processes involved). */
  context?: () => string;
}

/**
 * Polls `probe` until it returns something other than undefined or false, and resolves with it;
 * fails naming `what` (and the context) once the time is up.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 25_000, intervalMs = 100, context } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const details = context ? `\n${context()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${details}`);
    }
    await sleep(intervalMs);
  }
}
