/** A first retry soon enough that a one-off crash goes unnoticed… */
const FIRST_DELAY_MS = 500;
/** …and a ceiling low enough that a fixed cause is picked up within seconds. */
const MAX_DELAY_MS = 10_000;

/** Delays that double after every failure in a row, up to a ceiling, until `reset`. */
export class Backoff {
  private nextDelayMs: number;

  constructor(
    private readonly firstMs = FIRST_DELAY_MS,
    private readonly maxMs = MAX_DELAY_MS,
  ) {
    this.nextDelayMs = firstMs;
  }

  /** The delay before the next attempt; the one after it is twice as long. */
  next(): number {
    const delay = this.nextDelayMs;
    this.nextDelayMs = Math.min(delay * 2, this.maxMs);
    return delay;
  }

  reset(): void {
    this.nextDelayMs = this.firstMs;
  }
}
