import { encodeEvaluatorStatus, evaluatorKey, messageOf } from '@castellan/proto';
import type { EvaluatorStatus, PolicyLoadFailure, WireError } from '@castellan/proto';
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';

export interface StatusReporterOptions {
  kv: KV;
  pool: string;
  evaluatorId: string;
  heartbeatMs: number;
  logger: Logger;
}

/**
 * This evaluator's {@link EvaluatorStatus} in the status KV: rewritten on every change and on every
 * heartbeat (liveness is the heartbeat timestamp, since nats-server 2.9 ignores KV TTLs). Writes are
 * serialised and coalesced: a change made while a write is in flight goes out in the next one.
 */
export class StatusReporter {
  private readonly key: string;
  private readonly loaded = new Map<string, number>();
  private readonly failed = new Map<string, PolicyLoadFailure>();
  private draining = false;
  private stopped = false;
  private dirty = false;
  private writing: Promise<void> | undefined;
  private writeFailures = 0;

  constructor(private readonly options: StatusReporterOptions) {
    this.key = evaluatorKey(options.pool, options.evaluatorId);
  }

  /** Reports `revision` as the one served for `policyId`, with its load failure if it has one. */
  setServed(policyId: string, revision: number, failure: WireError | undefined): Promise<void> {
    this.loaded.set(policyId, revision);
    if (failure) this.failed.set(policyId, { revision, error: failure });
    else this.failed.delete(policyId);
    return this.write();
  }

  remove(policyId: string): Promise<void> {
    this.loaded.delete(policyId);
    this.failed.delete(policyId);
    return this.write();
  }

  /** The status as it is now (what the next write sends). */
  snapshot(now = Date.now()): EvaluatorStatus {
    return {
      evaluatorId: this.options.evaluatorId,
      pool: this.options.pool,
      heartbeat: now,
      heartbeatIntervalMs: this.options.heartbeatMs,
      loaded: Object.fromEntries(this.loaded),
      failed: Object.fromEntries(this.failed),
      draining: this.draining,
    };
  }

  /** Writes the status now (a heartbeat); resolves once a write including every change so far is done. */
  write(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.dirty = true;
    this.writing ??= this.writeWhileDirty();
    return this.writing;
  }

  /** Tells readers to stop counting on this evaluator; no write follows but the removal. */
  async markDraining(): Promise<void> {
    this.draining = true;
    await this.write();
    this.stopped = true;
    await this.writing;
  }

  /** Deletes the status key (graceful shutdown). */
  async delete(): Promise<void> {
    this.stopped = true;
    await this.writing;
    try {
      await this.options.kv.delete(this.key);
    } catch (error) {
      this.options.logger.warn({ err: error, key: this.key }, 'cannot delete the evaluator status');
    }
  }

  private async writeWhileDirty(): Promise<void> {
    try {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        await this.writeOnce();
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async writeOnce(): Promise<void> {
    try {
      await this.options.kv.put(this.key, encodeEvaluatorStatus(this.snapshot()));
      if (this.writeFailures > 0) {
        this.options.logger.info({ failures: this.writeFailures }, 'evaluator status written again');
      }
      this.writeFailures = 0;
    } catch (error) {
      // Logged once per outage: the next heartbeat tries again.
      if (this.writeFailures++ === 0) {
        this.options.logger.warn(
          { reason: messageOf(error), key: this.key },
          'cannot write the evaluator status',
        );
      }
    }
  }
}
