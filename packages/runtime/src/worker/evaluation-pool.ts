import { availableParallelism } from 'node:os';
import type { HostCallHandler, PolicyLogSink } from '../host-calls/host-call.js';
import type { PolicyLoadSpec, WorkerTask } from './messages.js';
import { StartDeadlines } from './start-deadlines.js';
import type { TaskOutcome, TrackedTask } from './worker-thread.js';
import { WorkerThread } from './worker-thread.js';

export interface EvaluationPoolOptions {
  /** Worker threads; default one per CPU. */
  workers?: number;
  /** Tasks sent ahead to a busy worker, so it never waits for the parent between two tasks. */
  tasksAheadPerWorker?: number;
  /**
   * Threads a heavy policy (one that lately overran its deadline or held a thread for long) may
   * occupy at once; default all but one (at least one), so a policy stuck in endless loops or
   * burning CPU never holds every thread and the others keep being served.
   */
  maxThreadsPerHeavyPolicy?: number;
  heapLimitMiB?: number;
  hostCallHandler: HostCallHandler;
  logSink: PolicyLogSink;
}

/** A task before the pool numbers it (distributes over the union, keeping each kind's fields). */
type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;
type TaskBody = WithoutSeq<WorkerTask>;

interface RegisteredLoad {
  spec: PolicyLoadSpec;
  deadlineMs: number;
}

const DEFAULT_TASKS_AHEAD = 2;
/**
 * A task is only queued behind one that started less than this long ago: behind a guest that
 * runs long (or loops until its deadline) it would wait instead of going to the next free thread.
 */
const AHEAD_WINDOW_MS = 5;
/**
 * An evaluation running longer than this marks its policy heavy. It is the run time the worker
 * measures: time from dispatch would also count the wait behind a task sent ahead and every stall
 * of this thread (a GC pause, a busy machine), and brand a quick policy heavy.
 */
const HEAVY_TASK_MS = 50;
/** How long a heavy policy is held to its share of the threads. */
const HEAVY_MEMORY_MS = 60_000;
const DEFAULT_HEAP_LIMIT_MIB = 512;

/**
 * Worker threads that run policy tasks. Evaluations share one queue and go to the least busy
 * thread; loads go to every thread and are replayed on the thread that replaces a lost one (after a
 * deadline kill or a crash), so every live thread can serve every loaded policy.
 */
export class EvaluationPool {
  private readonly threads: WorkerThread[] = [];
  private readonly queue: TrackedTask[] = [];
  private readonly loads = new Map<string, RegisteredLoad>();
  private readonly tasksAhead: number;
  private readonly maxThreadsPerHeavyPolicy: number;
  /** Evaluations sent to a thread and not settled yet, per policy. */
  private readonly busyByPolicy = new Map<string, number>();
  /** Policy → when it last overran its deadline or ran for long. */
  private readonly heavy = new Map<string, number>();
  /** Policies whose last evaluation (not settings validation) was quick: they may use every thread. */
  private readonly trusted = new Set<string>();
  /** Evaluations sent to a thread and not settled yet (nor sent back to the queue). */
  private readonly dispatched = new Set<TrackedTask>();
  private readonly startDeadlines = new StartDeadlines(() => this.pump());
  private seq = 0;
  private closed = false;

  constructor(private readonly options: EvaluationPoolOptions) {
    // Below one, no thread could ever take a task (or a heavy policy's task): nothing would run.
    this.tasksAhead = Math.max(1, options.tasksAheadPerWorker ?? DEFAULT_TASKS_AHEAD);
    const count = Math.max(1, options.workers ?? availableParallelism());
    this.maxThreadsPerHeavyPolicy = Math.max(1, options.maxThreadsPerHeavyPolicy ?? count - 1);
    for (let i = 0; i < count; i++) this.threads.push(this.spawn());
  }

  get size(): number {
    return this.threads.length;
  }

  /**
   * Runs a task on whichever thread is free first. A task that has not started within its deadline
   * of being submitted, or by `notAfter` (epoch ms: its caller stops waiting) if sooner, is answered
   * as timed out rather than run: no task waits unanswered for a thread, and under attack abandoned
   * requests to a slow policy do not pile up and keep threads busy long after the attack.
   */
  submit(body: TaskBody, deadlineMs: number, notAfter?: number): Promise<TaskOutcome> {
    return new Promise((settle) => {
      const tracked = this.track(body, deadlineMs, (outcome) => {
        this.startDeadlines.forget(tracked);
        const wasDispatched = this.undispatch(tracked);
        // Only a run tells how heavy a policy is: a task that timed out in the queue never ran.
        if (wasDispatched) this.noteWeight(tracked, outcome);
        settle(outcome);
        // A settled evaluation frees its policy's share of the threads.
        if (wasDispatched) this.pump();
      });
      this.startDeadlines.set(tracked, Math.min(Date.now() + deadlineMs, notAfter ?? Infinity));
      this.queue.push(tracked);
      this.pump();
    });
  }

  /** Loads a policy into every thread; resolves with each thread's outcome. */
  async loadEverywhere(spec: PolicyLoadSpec, deadlineMs: number): Promise<TaskOutcome[]> {
    this.loads.set(spec.policyKey, { spec, deadlineMs });
    const outcomes = await Promise.all(
      this.threads.map((thread) => this.sendTo(thread, { kind: 'load', spec }, deadlineMs)),
    );
    if (outcomes.some((o) => o.kind === 'failed' || o.kind === 'timed-out'))
      await this.unloadEverywhere(spec.policyKey);
    return outcomes;
  }

  async unloadEverywhere(policyKey: string): Promise<void> {
    this.loads.delete(policyKey);
    this.heavy.delete(policyKey);
    this.trusted.delete(policyKey);
    await Promise.all(this.threads.map((thread) => this.sendTo(thread, { kind: 'unload', policyKey }, 1000)));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.startDeadlines.stop();
    for (const tracked of this.queue.splice(0))
      tracked.settle({ kind: 'worker-lost', reason: 'the evaluator is closing' });
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }

  /** Numbers a task (sequence numbers wrap before the Int32 the worker status holds overflows). */
  private track(body: TaskBody, deadlineMs: number, settle: TrackedTask['settle']): TrackedTask {
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    return { task: { ...body, seq: this.seq }, deadlineMs, settle };
  }

  private sendTo(thread: WorkerThread, body: TaskBody, deadlineMs: number): Promise<TaskOutcome> {
    if (!thread.alive) return Promise.resolve({ kind: 'worker-lost', reason: 'the worker is gone' });
    return new Promise((settle) => {
      thread.send(this.track(body, deadlineMs, settle));
    });
  }

  private pump(): void {
    for (const tracked of this.startDeadlines.takeOverdue(this.queue)) tracked.settle({ kind: 'timed-out' });
    this.dispatchQueued();
    this.startDeadlines.watch(this.queue);
  }

  private dispatchQueued(): void {
    while (this.queue.length > 0) {
      const target = this.freestThread();
      if (!target) return;
      const index = this.queue.findIndex((tracked) => this.mayDispatch(policyOf(tracked), target));
      if (index < 0) return;
      const [tracked] = this.queue.splice(index, 1);
      if (!tracked) return;
      const policyKey = policyOf(tracked);
      if (policyKey !== undefined) this.busyByPolicy.set(policyKey, this.busy(policyKey) + 1);
      this.dispatched.add(tracked);
      target.send(tracked);
    }
  }

  /**
   * The least loaded thread that can take a task now: an idle one, or one whose running task
   * started a moment ago and whose tasks all belong to policies known to answer quickly.
   */
  private freestThread(): WorkerThread | undefined {
    const now = Date.now();
    let target: WorkerThread | undefined;
    for (const thread of this.threads) {
      if (!thread.alive || thread.load >= this.tasksAhead) continue;
      if (thread.load > 0) {
        if ((thread.runningFor(now) ?? 0) > AHEAD_WINDOW_MS) continue;
        if ([...thread.tasks].some((tracked) => !this.isQuick(policyOf(tracked), now))) continue;
      }
      if (!target || thread.load < target.load) target = thread;
    }
    return target;
  }

  /**
   * A heavy policy runs only within its share of the threads, and only on an idle thread while
   * another thread is idle too: the thread it may hold for a whole deadline is never the last one
   * the other policies have (a replacement thread still loading policies is not idle). A pool of
   * one thread has no other to keep free: there the heavy policy runs whenever the thread is idle.
   */
  private mayDispatch(policyKey: string | undefined, target: WorkerThread): boolean {
    if (policyKey === undefined) return true;
    const withinShare = this.busy(policyKey) < this.maxThreadsPerHeavyPolicy;
    if (this.isHeavy(policyKey, Date.now())) {
      if (!withinShare || target.load > 0) return false;
      if (this.threads.length === 1) return true;
      return this.threads.some((thread) => thread !== target && thread.alive && thread.load === 0);
    }
    // A policy not yet seen answering quickly could be an endless loop: it gets its share only,
    // which spares the other policies the stall of its first overrun.
    return this.trusted.has(policyKey) || withinShare;
  }

  /** Marks a policy heavy when its evaluation overran its deadline or ran for long. */
  private noteWeight(tracked: TrackedTask, outcome: TaskOutcome): void {
    const policyKey = policyOf(tracked);
    if (policyKey === undefined) return;
    const ranLong = (outcome.kind === 'done' || outcome.kind === 'failed') && outcome.ranMs > HEAVY_TASK_MS;
    if (outcome.kind === 'timed-out' || ranLong) {
      this.heavy.set(policyKey, Date.now());
      this.trusted.delete(policyKey);
    } else if (outcome.kind === 'done' && tracked.task.kind === 'validate') {
      // Only an evaluation earns trust: a policy's settings validation may be quick while its
      // validation loops forever.
      this.trusted.add(policyKey);
    }
  }

  /** Known to answer quickly: a task may wait behind it. */
  private isQuick(policyKey: string | undefined, now: number): boolean {
    return policyKey === undefined || (this.trusted.has(policyKey) && !this.isHeavy(policyKey, now));
  }

  private isHeavy(policyKey: string | undefined, now: number): boolean {
    if (policyKey === undefined) return false;
    const at = this.heavy.get(policyKey);
    if (at === undefined) return false;
    if (now - at <= HEAVY_MEMORY_MS) return true;
    this.heavy.delete(policyKey);
    return false;
  }

  private busy(policyKey: string | undefined): number {
    return policyKey === undefined ? 0 : (this.busyByPolicy.get(policyKey) ?? 0);
  }

  /**
   * Stops counting a task against its policy (it settled, or went back to the queue); returns
   * whether it was out on a thread.
   */
  private undispatch(tracked: TrackedTask): boolean {
    if (!this.dispatched.delete(tracked)) return false;
    const policyKey = policyOf(tracked);
    if (policyKey !== undefined) {
      const busy = this.busy(policyKey) - 1;
      if (busy > 0) this.busyByPolicy.set(policyKey, busy);
      else this.busyByPolicy.delete(policyKey);
    }
    return true;
  }

  private spawn(): WorkerThread {
    const thread = new WorkerThread({
      hostCallHandler: this.options.hostCallHandler,
      logSink: this.options.logSink,
      heapLimitMiB: this.options.heapLimitMiB ?? DEFAULT_HEAP_LIMIT_MIB,
      onIdle: () => this.pump(),
      onLost: (lost, unstarted) => this.replace(lost, unstarted),
    });
    for (const { spec, deadlineMs } of this.loads.values())
      void this.sendTo(thread, { kind: 'load', spec }, deadlineMs);
    return thread;
  }

  private replace(lost: WorkerThread, unstarted: TrackedTask[]): void {
    const index = this.threads.indexOf(lost);
    if (index >= 0) this.threads.splice(index, 1);
    const evaluations = unstarted.filter(
      (t) => t.task.kind === 'validate' || t.task.kind === 'validate-settings',
    );
    for (const tracked of unstarted) {
      if (!evaluations.includes(tracked))
        tracked.settle({ kind: 'worker-lost', reason: 'the worker was replaced' });
    }
    if (this.closed) {
      for (const tracked of evaluations)
        tracked.settle({ kind: 'worker-lost', reason: 'the evaluator is closing' });
      return;
    }
    this.threads.push(this.spawn());
    // Back in the queue, they count against their policy again only once re-sent.
    for (const tracked of evaluations) this.undispatch(tracked);
    this.queue.unshift(...evaluations);
    this.pump();
  }
}

function policyOf(tracked: TrackedTask): string | undefined {
  const { task } = tracked;
  return task.kind === 'validate' || task.kind === 'validate-settings' ? task.policyKey : undefined;
}
