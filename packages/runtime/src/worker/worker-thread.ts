import { MessageChannel, Worker } from 'node:worker_threads';
import type { HostCallHandler, PolicyLogSink } from '../host-calls/host-call.js';
import { serveHostCalls } from './host-call-bridge.js';
import type { TaskResult, WorkerBootstrap, WorkerEvent, WorkerTask } from './messages.js';
import { TaskStatus } from './task-status.js';
import type { ErrorRecord } from '../errors.js';

/** A task as the parent tracks it until its worker answers, fails, or overruns. */
export interface TrackedTask {
  task: WorkerTask;
  deadlineMs: number;
  settle: (outcome: TaskOutcome) => void;
}

/** `ranMs`: how long the task ran on its worker, measured there. */
export type TaskOutcome =
  | { kind: 'done'; result: TaskResult; ranMs: number }
  | { kind: 'failed'; error: ErrorRecord; ranMs: number }
  | { kind: 'timed-out' }
  | { kind: 'worker-lost'; reason: string };

export interface WorkerThreadOptions {
  hostCallHandler: HostCallHandler;
  logSink: PolicyLogSink;
  /** V8 heap limit of the thread (Wasm memories are bounded per instance, not by this). */
  heapLimitMiB: number;
  /** Called once when the thread is gone (deadline kill or crash); tasks it held are returned. */
  onLost: (thread: WorkerThread, unstarted: TrackedTask[]) => void;
  /** Called whenever the thread finished a task and can take another. */
  onIdle: (thread: WorkerThread) => void;
}

const WORKER_URL = new URL('./evaluation-worker.js', import.meta.url);

/**
 * The parent's handle on one evaluation worker thread: sends tasks (in order; the thread runs them
 * one at a time), settles each when its answer arrives, and terminates the thread when the task it
 * is running overruns its deadline — the only way to stop a guest stuck in an endless loop.
 */
export class WorkerThread {
  private readonly worker: Worker;
  private readonly status = new TaskStatus();
  private readonly inFlight = new Map<number, TrackedTask>();
  private lost = false;

  constructor(private readonly options: WorkerThreadOptions) {
    const channel = new MessageChannel();
    const hostCallSignal = new SharedArrayBuffer(4);
    serveHostCalls(channel.port1, hostCallSignal, options.hostCallHandler);
    const bootstrap: WorkerBootstrap = {
      status: this.status.buffer,
      hostCallSignal,
      hostCallPort: channel.port2,
    };
    this.worker = new Worker(WORKER_URL, {
      workerData: bootstrap,
      transferList: [channel.port2],
      resourceLimits: { maxOldGenerationSizeMb: options.heapLimitMiB },
      stdout: false,
      stderr: false,
    });
    this.worker.on('message', (event: WorkerEvent) => this.onEvent(event));
    this.worker.on('error', (error: Error) => this.loseThread(`the worker failed: ${error.message}`));
    this.worker.on('exit', (code) => {
      channel.port1.close();
      this.loseThread(`the worker exited with code ${code}`);
    });
  }

  get load(): number {
    return this.inFlight.size;
  }

  get alive(): boolean {
    return !this.lost;
  }

  /** Milliseconds the task running now has been running; undefined when none has started. */
  runningFor(now: number): number | undefined {
    for (const tracked of this.inFlight.values()) {
      const startedAt = this.status.startOf(tracked.task.seq);
      if (startedAt !== undefined) return now - startedAt;
    }
    return undefined;
  }

  /** The tasks sent to this thread and not answered yet. */
  get tasks(): Iterable<TrackedTask> {
    return this.inFlight.values();
  }

  send(tracked: TrackedTask): void {
    this.inFlight.set(tracked.task.seq, tracked);
    this.worker.postMessage(tracked.task);
    this.watchDeadline(tracked);
  }

  async terminate(): Promise<void> {
    this.lost = true;
    await this.worker.terminate();
  }

  private watchDeadline(tracked: TrackedTask): void {
    const check = (): void => {
      if (!this.inFlight.has(tracked.task.seq) || this.lost) return;
      const startedAt = this.status.startOf(tracked.task.seq);
      const remaining =
        startedAt === undefined ? tracked.deadlineMs : startedAt + tracked.deadlineMs - Date.now();
      if (remaining > 0) {
        setTimeout(check, remaining).unref();
        return;
      }
      this.loseThread('a task overran its deadline', tracked);
      void this.worker.terminate();
    };
    setTimeout(check, tracked.deadlineMs).unref();
  }

  private onEvent(event: WorkerEvent): void {
    if (event.kind === 'log') {
      this.options.logSink(event.entry);
      return;
    }
    const tracked = this.inFlight.get(event.seq);
    if (!tracked) return;
    this.inFlight.delete(event.seq);
    tracked.settle(
      event.kind === 'done'
        ? { kind: 'done', result: event.result, ranMs: event.ranMs }
        : { kind: 'failed', error: event.error, ranMs: event.ranMs },
    );
    this.options.onIdle(this);
  }

  /**
   * Gives the thread up: the task that was running cannot be retried safely (it settles as timed
   * out when it is the one that overran, else as lost); the rest never started and go back to the
   * pool. The thread counts as gone before anything settles, so nothing is sent to it meanwhile.
   */
  private loseThread(reason: string, overrun?: TrackedTask): void {
    if (this.lost) {
      this.failAll(reason);
      return;
    }
    this.lost = true;
    const running =
      overrun ?? [...this.inFlight.values()].find((t) => this.status.startOf(t.task.seq) !== undefined);
    if (running) {
      this.inFlight.delete(running.task.seq);
      running.settle(overrun ? { kind: 'timed-out' } : { kind: 'worker-lost', reason });
    }
    const unstarted = [...this.inFlight.values()];
    this.inFlight.clear();
    this.options.onLost(this, unstarted);
  }

  private failAll(reason: string): void {
    for (const tracked of this.inFlight.values()) tracked.settle({ kind: 'worker-lost', reason });
    this.inFlight.clear();
  }
}
