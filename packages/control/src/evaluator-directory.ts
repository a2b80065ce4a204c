import { Bucket, decodeEvaluatorStatus, heartbeatFresh, messageOf, statusSeenAt } from '@castellan/proto';
import type { EvaluatorStatus } from '@castellan/proto';
import { openKvBucket, watchKv } from '@castellan/service-host';
import type { KvWatch } from '@castellan/service-host';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';

interface SeenStatus {
  status: EvaluatorStatus;
  /** Local clock time the status was written, as far as this process can tell. */
  seenAt: number;
  /** What the evaluator serves, as text: a heartbeat that changes nothing else is not news. */
  serving: string;
}

/** How far one policy's revision has reached the live evaluators of its pool. */
export interface RevisionReach {
  /** Live evaluators of the pool. */
  live: number;
  /** Live evaluators serving the revision or a newer one. */
  serving: number;
  /** Load failures of that revision, by evaluator id. */
  failures: { evaluatorId: string; code: string; message: string }[];
}

export interface EvaluatorDirectoryOptions {
  replicas: number;
  logger: Logger;
  /** Called when an evaluator of `pool` appears, goes, or changes what it serves (not on heartbeats). */
  onChange?: (pool: string) => void;
  now?: () => number;
}

/**
 * Every evaluator of every pool as the status KV says, kept current by a watch. Live = seen
 * within 3 × its own heartbeat interval and not draining — the rule the gateway and the evaluators
 * apply too. Liveness uses this process's clock (when a status arrived), never another machine's,
 * except for statuses already there at start, dated by their own heartbeat.
 */
export class EvaluatorDirectory {
  private readonly statuses = new Map<string, SeenStatus>();
  private watch: KvWatch | undefined;
  private kv: KV | undefined;

  private constructor(private readonly options: EvaluatorDirectoryOptions) {}

  /** Starts watching and resolves once the statuses already written are known. */
  static async open(nc: NatsConnection, options: EvaluatorDirectoryOptions): Promise<EvaluatorDirectory> {
    const directory = new EvaluatorDirectory(options);
    const kv = await openKvBucket(nc, Bucket.Evaluators, options.replicas);
    directory.kv = kv;
    directory.watch = await watchKv(
      nc,
      kv,
      '>',
      (entry, replayed) => directory.onEntry(entry, replayed),
      options.logger,
    );
    await directory.watch.caughtUp;
    return directory;
  }

  /** The live evaluators of a pool. */
  live(pool: string): EvaluatorStatus[] {
    const now = (this.options.now ?? Date.now)();
    const live: EvaluatorStatus[] = [];
    for (const { status, seenAt } of this.statuses.values()) {
      if (status.pool !== pool || status.draining) continue;
      if (heartbeatFresh(status, seenAt, now)) live.push(status);
    }
    return live;
  }

  /** Which live evaluators of `pool` serve `revision` (or newer) of `policyId`, and which failed to load it. */
  reach(pool: string, policyId: string, revision: number): RevisionReach {
    const live = this.live(pool);
    const failures: RevisionReach['failures'] = [];
    let serving = 0;
    for (const status of live) {
      const failure = status.failed[policyId];
      if (failure && failure.revision >= revision) {
        failures.push({ evaluatorId: status.evaluatorId, ...failure.error });
      } else if ((status.loaded[policyId] ?? 0) >= revision) {
        serving += 1;
      }
    }
    return { live: live.length, serving, failures };
  }

  /**
   * Deletes the statuses of evaluators not heard of for `silentMs` (pods gone for good: every new
   * pod writes a key of its own, so without this the KV only grows). An evaluator that was merely
   * cut off writes its status again on its next heartbeat. Returns the keys deleted.
   */
  async forgetSilent(silentMs: number): Promise<string[]> {
    const now = (this.options.now ?? Date.now)();
    const forgotten: string[] = [];
    for (const [key, { seenAt }] of this.statuses) {
      if (now - seenAt <= silentMs) continue;
      await this.kv?.delete(key);
      forgotten.push(key);
    }
    return forgotten;
  }

  stop(): void {
    this.watch?.stop();
  }

  private onEntry(entry: KvWatchEntry, replayed: boolean): void {
    const previous = this.statuses.get(entry.key);
    if (entry.operation !== 'PUT') {
      if (previous && this.statuses.delete(entry.key)) this.options.onChange?.(previous.status.pool);
      return;
    }
    let status: EvaluatorStatus;
    try {
      status = decodeEvaluatorStatus(entry.value);
    } catch (error) {
      const reason = messageOf(error);
      this.options.logger.warn({ key: entry.key, reason }, 'unreadable evaluator status ignored');
      return;
    }
    const now = (this.options.now ?? Date.now)();
    const serving = JSON.stringify([status.loaded, status.failed, status.draining]);
    const seenAt = statusSeenAt(status, replayed, now);
    this.statuses.set(entry.key, { status, seenAt, serving });
    if (previous?.serving !== serving) this.options.onChange?.(status.pool);
  }
}
