import type { TrackedTask } from './worker-thread.js';

/**
 * When each submitted task must have started, and a timer that wakes the pool at the first such
 * time among the queued ones: a task still queued then is answered as timed out, so none waits for
 * a thread unanswered, even when nothing else happens in the pool meanwhile (a heavy policy waiting
 * while a loop holds the other threads).
 */
export class StartDeadlines {
  private readonly startBy = new Map<TrackedTask, number>();
  private timer: { at: number; handle: NodeJS.Timeout } | undefined;

  constructor(private readonly wake: () => void) {}

  set(tracked: TrackedTask, at: number): void {
    this.startBy.set(tracked, at);
  }

  forget(tracked: TrackedTask): void {
    this.startBy.delete(tracked);
  }

  /** Removes from `queue` the tasks whose start-by time has passed, and returns them. */
  takeOverdue(queue: TrackedTask[]): TrackedTask[] {
    if (queue.length === 0) return [];
    const now = Date.now();
    const overdue = queue.filter((tracked) => this.of(tracked) <= now);
    for (const tracked of overdue) queue.splice(queue.indexOf(tracked), 1);
    return overdue;
  }

  /** Arms the timer for the earliest start-by time in `queue`; disarms it when there is none. */
  watch(queue: readonly TrackedTask[]): void {
    let first = Infinity;
    for (const tracked of queue) first = Math.min(first, this.of(tracked));
    // A timer armed for later than needed is re-armed; one armed earlier just wakes the pool early.
    if (this.timer && (first === Infinity || this.timer.at > first)) this.stop();
    if (first === Infinity || this.timer) return;
    const handle = setTimeout(
      () => {
        this.timer = undefined;
        this.wake();
      },
      Math.max(0, first - Date.now()),
    );
    this.timer = { at: first, handle: handle.unref() };
  }

  stop(): void {
    clearTimeout(this.timer?.handle);
    this.timer = undefined;
  }

  private of(tracked: TrackedTask): number {
    return this.startBy.get(tracked) ?? Infinity;
  }
}
