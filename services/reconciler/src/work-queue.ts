import type { Logger } from 'pino';
import { describeApiFailure } from './api-failure.js';

/** What one run of the work for a key asks for next. */
export interface WorkResult {
  /** Run the key again after this long even if nothing changes (waiting on something unwatched). */
  requeueAfterMs?: number;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 60_000;

/**
 * A level-based work queue: adding a key that is already waiting does nothing, one key runs at a
 * time (so two runs never race on the same objects), and a run that throws is retried with
 * exponential backoff. Runs read the current state, so how often a key was added does not matter.
 */
export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly work: (key: string) => Promise<WorkResult>,
    private readonly logger: Logger,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.waiting.add(key);
    this.running ??= this.drain();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.stopped || this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, delayMs),
    );
  }

  /** Stops taking keys and waits for the run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting.clear();
    await this.running;
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const key = this.waiting.values().next().value;
      if (key === undefined) break;
      this.waiting.delete(key);
      await this.runOnce(key);
    }
    this.running = undefined;
  }

  private async runOnce(key: string): Promise<void> {
    try {
      const result = await this.work(key);
      this.failures.delete(key);
      if (result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const delayMs = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1));
      this.logger.warn(
        { key, attempt: failures, retryInMs: delayMs, reason: describeApiFailure(error) },
        'reconcile failed; retrying',
      );
      this.addAfter(key, delayMs);
    }
  }
}
