import { messageOf } from '@castellan/proto';
import { ModuleStoreErrorCode } from '@castellan/module-store';
import type { WireError } from '@castellan/proto';
import type { PolicyEvaluator } from '@castellan/runtime';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { PolicyLoader } from './policy-loader.js';
import type { PolicyRevision, RevisionState } from './revision-state.js';
import { ServedRevision } from './served-revision.js';
import type { StatusReporter } from './status-reporter.js';

export interface PolicySlotDeps {
  nc: NatsConnection;
  pool: string;
  policyId: string;
  loader: PolicyLoader;
  evaluator: PolicyEvaluator;
  status: StatusReporter;
  rolloutGraceMs: number;
  /** The oldest revision of this policy a live evaluator of the pool reports (this one included). */
  minServedInPool: () => number;
  /** First delay before loading again a revision whose module could not be read; doubles up to 30 s. */
  retryBaseMs: number;
  /** Called once the policy was deleted and its grace period is over. */
  onRemoved: () => void;
  logger: Logger;
}

/**
 * Failures that may go away by themselves: the module not stored yet, JetStream unavailable, or an
 * object holding the wrong bytes, which the fetcher replaces when the module is fetched again
 * (evaluators may read the store, not ask for fetches).
 */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  ModuleStoreErrorCode.NotFound,
  ModuleStoreErrorCode.Unavailable,
  ModuleStoreErrorCode.Corrupt,
]);
const MAX_RETRY_DELAY_MS = 30_000;

type Desired = { kind: 'revision'; revision: PolicyRevision } | { kind: 'deleted' };

/**
 * One policy on this evaluator: the revisions it serves and the hand-over between them.
 *
 * Revisions are loaded one at a time, newest wins (one superseded while loading is dropped). A
 * loaded revision — or one that failed, answering with its failure — is subscribed on its own
 * subject and only then reported. An older revision keeps being served until every live evaluator
 * of the pool reports the policy at a newer one, plus a grace period for gateways to notice; then it
 * is drained and unloaded. A deleted policy is served for the grace period, then removed.
 */
export class PolicySlot {
  private desired: Desired | undefined;
  /** The newest revision seen in the policy KV (a PUT or a delete marker). */
  private latestRevision = 0;
  private current: ServedRevision | undefined;
  private readonly served = new Map<number, ServedRevision>();
  private readonly retirementTimers = new Map<number, NodeJS.Timeout>();
  private readonly retiring = new Set<Promise<void>>();
  private deletionTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private closed = false;
  private readonly logger: Logger;

  constructor(private readonly deps: PolicySlotDeps) {
    this.logger = deps.logger.child({ policyId: deps.policyId });
  }

  get removed(): boolean {
    return this.closed;
  }

  /** The revision reported as served, if any. */
  get currentRevision(): number | undefined {
    return this.current?.revision;
  }

  /** Revisions with an active subscription, oldest first. */
  get servedRevisions(): number[] {
    return [...this.served.keys()].sort((a, b) => a - b);
  }

  /** A PUT of the policy's key: load that revision unless a newer one is known. */
  offer(revision: PolicyRevision): void {
    if (this.closed || revision.revision <= this.latestRevision) return;
    this.latestRevision = revision.revision;
    this.desired = { kind: 'revision', revision };
    clearTimeout(this.deletionTimer);
    this.deletionTimer = undefined;
    this.loading ??= this.loadWhileBehind().finally(() => (this.loading = undefined));
  }

  /** A DEL or PURGE of the policy's key: keep serving for the grace period, then remove. */
  withdraw(revision: number): void {
    if (this.closed || revision <= this.latestRevision) return;
    this.latestRevision = revision;
    this.desired = { kind: 'deleted' };
    for (const timer of this.retirementTimers.values()) clearTimeout(timer);
    this.retirementTimers.clear();
    this.logger.info(
      { graceMs: this.deps.rolloutGraceMs },
      'policy deleted; serving it for the grace period',
    );
    this.deletionTimer ??= setTimeout(() => void this.remove(), this.deps.rolloutGraceMs);
  }

  /** Resolves when no load is running (the newest revision known is served, or was dropped). */
  async settled(): Promise<void> {
    while (this.loading) await this.loading;
  }

  /**
   * Starts the grace period of every old revision the whole pool has moved past, and stops it for
   * one that no longer is (a lagging evaluator appeared). Called on every pool change and beat.
   */
  reviewRetirements(): void {
    if (this.closed || !this.current || this.desired?.kind === 'deleted') return;
    const minServed = this.deps.minServedInPool();
    for (const revision of this.served.keys()) {
      if (revision === this.current.revision) continue;
      const timer = this.retirementTimers.get(revision);
      if (revision < minServed && !timer) {
        this.retirementTimers.set(
          revision,
          setTimeout(() => this.retireIfStillPassed(revision), this.deps.rolloutGraceMs),
        );
      } else if (revision >= minServed && timer) {
        clearTimeout(timer);
        this.retirementTimers.delete(revision);
      }
    }
  }

  /** Graceful shutdown: stop loading, drain every subscription (requests received get answered). */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimers();
    await Promise.all([...this.served.values()].map((served) => served.drain()));
    await Promise.allSettled([...this.retiring]);
  }

  private async loadWhileBehind(): Promise<void> {
    for (;;) {
      const target = this.desired;
      if (this.closed || target?.kind !== 'revision') return;
      const { revision } = target.revision;
      if (this.current && revision <= this.current.revision) return;

      const started = Date.now();
      const state = await this.deps.loader.load(target.revision);
      if (this.closed || this.desired !== target) {
        this.logger.info({ revision }, 'revision superseded while loading; dropped');
        await this.deps.loader.release(state);
        continue;
      }
      const served = new ServedRevision({
        nc: this.deps.nc,
        pool: this.deps.pool,
        policyId: this.deps.policyId,
        revision,
        state,
        evaluator: this.deps.evaluator,
        logger: this.logger,
      });
      try {
        // The server must know the subscription before anyone reads the status and routes to it.
        await this.deps.nc.flush();
      } catch (error) {
        this.logger.warn({ reason: messageOf(error) }, 'cannot confirm the subscription with the server');
      }
      if (this.closed) {
        await served.drain();
        await this.deps.loader.release(state);
        return;
      }
      this.served.set(revision, served);
      this.current = served;
      const failure = failureOf(state);
      void this.deps.status.setServed(this.deps.policyId, revision, failure);
      if (failure) {
        this.logger.warn(
          { revision, code: failure.code, reason: failure.message },
          'policy failed to load; its requests are denied',
        );
      } else {
        this.logger.info({ revision, ms: Date.now() - started }, 'policy revision loaded and served');
      }
      this.reviewRetirements();
      if (failure && RETRYABLE_CODES.has(failure.code)) this.scheduleRetry(served, 0);
    }
  }

  /**
   * Loads a revision whose module could not be read again, with backoff, for as long as it is the
   * current one: a module stored after its config was written, a corrupt object replaced by the
   * fetcher, or a JetStream outage, heals without a new revision.
   */
  private scheduleRetry(served: ServedRevision, attempt: number): void {
    const delay = Math.min(this.deps.retryBaseMs * 2 ** attempt, MAX_RETRY_DELAY_MS);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // Not tracked by close(): a read of the store may hang until its stall timeout.
      void this.retry(served, attempt);
    }, delay);
  }

  private async retry(served: ServedRevision, attempt: number): Promise<void> {
    const target = this.desired;
    if (this.closed || served !== this.current || target?.kind !== 'revision') return;
    if (target.revision.revision !== served.revision) return;
    const state = await this.deps.loader.load(target.revision);
    if (this.closed || served !== this.current || this.desired !== target) {
      await this.release(state);
      return;
    }
    served.replaceState(state);
    const failure = failureOf(state);
    void this.deps.status.setServed(this.deps.policyId, served.revision, failure);
    if (!failure) {
      this.logger.info(
        { revision: served.revision, attempt: attempt + 1 },
        'policy revision loaded on retry',
      );
    } else if (RETRYABLE_CODES.has(failure.code)) {
      this.scheduleRetry(served, attempt + 1);
    } else {
      this.logger.warn(
        { revision: served.revision, code: failure.code, reason: failure.message },
        'policy failed to load',
      );
    }
  }

  private retireIfStillPassed(revision: number): void {
    this.retirementTimers.delete(revision);
    if (this.closed || this.desired?.kind === 'deleted') return;
    if (revision >= this.deps.minServedInPool()) {
      this.reviewRetirements();
      return;
    }
    const served = this.served.get(revision);
    if (!served || served === this.current) return;
    this.served.delete(revision);
    this.track(this.retire(served));
  }

  private async retire(served: ServedRevision): Promise<void> {
    await served.drain();
    await this.release(served.state);
    this.logger.info({ revision: served.revision }, 'old revision drained and unloaded');
  }

  private async remove(): Promise<void> {
    this.deletionTimer = undefined;
    if (this.closed || this.desired?.kind !== 'deleted') return;
    this.closed = true;
    this.clearTimers();
    this.deps.onRemoved();
    void this.deps.status.remove(this.deps.policyId);
    const served = [...this.served.values()];
    this.served.clear();
    this.current = undefined;
    await Promise.all(served.map((revision) => this.retire(revision)));
    await this.settled();
    this.logger.info('deleted policy drained and unloaded');
  }

  private async release(state: RevisionState): Promise<void> {
    try {
      await this.deps.loader.release(state);
    } catch (error) {
      this.logger.warn({ reason: messageOf(error) }, 'cannot unload a policy revision');
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.retiring.delete(tracked));
    this.retiring.add(tracked);
  }

  private clearTimers(): void {
    clearTimeout(this.deletionTimer);
    this.deletionTimer = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const timer of this.retirementTimers.values()) clearTimeout(timer);
    this.retirementTimers.clear();
  }
}

function failureOf(state: RevisionState): WireError | undefined {
  return state.kind === 'failed' ? state.error : undefined;
}
