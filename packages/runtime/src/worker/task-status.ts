import { STATUS_BYTES } from './messages.js';

/**
 * Which task a worker is running and since when, in shared memory: the parent reads it to enforce
 * deadlines from the moment a task really starts (tasks may wait in the worker's queue first).
 */
export class TaskStatus {
  private readonly running: Int32Array;
  private readonly startedAt: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(STATUS_BYTES)) {
    this.running = new Int32Array(buffer, 0, 1);
    this.startedAt = new Float64Array(buffer, 8, 1);
  }

  /** Records that task `seq` starts now; returns the worker's monotonic clock reading. */
  begin(seq: number): number {
    this.startedAt[0] = Date.now();
    Atomics.store(this.running, 0, seq);
    return performance.now();
  }

  end(): void {
    Atomics.store(this.running, 0, 0);
  }

  /** The start time of task `seq` if it is the one running, else undefined. */
  startOf(seq: number): number | undefined {
    return Atomics.load(this.running, 0) === seq ? this.startedAt[0] : undefined;
  }
}
