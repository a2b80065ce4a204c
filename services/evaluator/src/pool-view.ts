import {
  decodeEvaluatorStatus,
  heartbeatFresh,
  messageOf,
  poolKeyFilter,
  statusSeenAt,
} from '@castellan/proto';
import type { EvaluatorStatus } from '@castellan/proto';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { watchKv } from '@castellan/service-host';
import type { KvWatch } from '@castellan/service-host';

interface SeenStatus {
  status: EvaluatorStatus;
  /** Local clock time the status was written, as far as this process can tell. */
  seenAt: number;
}

/**
 * The evaluators of one pool as their statuses in the status KV say, kept current by a watch.
 * Live = seen within 3 × its own heartbeat interval and not draining — the rule the gateway
 * applies too. Liveness uses this process's clock (when a status arrived), never another
 * machine's, except for statuses already there at start, dated by their own heartbeat.
 */
export class PoolView {
  private readonly statuses = new Map<string, SeenStatus>();
  private watch: KvWatch | undefined;

  private constructor(
    private readonly pool: string,
    private readonly onChange: () => void,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** Starts watching and resolves once the statuses already written are known. */
  static async open(
    nc: NatsConnection,
    kv: KV,
    pool: string,
    onChange: () => void,
    logger: Logger,
    now: () => number = Date.now,
  ): Promise<PoolView> {
    const view = new PoolView(pool, onChange, logger, now);
    view.watch = await watchKv(
      nc,
      kv,
      poolKeyFilter(pool),
      (entry, replayed) => view.onEntry(entry, replayed),
      logger,
    );
    await view.watch.caughtUp;
    return view;
  }

  /** The live evaluators of the pool; `self`, when given, replaces what the KV says of this evaluator. */
  live(self?: EvaluatorStatus): EvaluatorStatus[] {
    const now = this.now();
    const live: EvaluatorStatus[] = [];
    for (const { status, seenAt } of this.statuses.values()) {
      if (status.evaluatorId === self?.evaluatorId || status.draining) continue;
      if (heartbeatFresh(status, seenAt, now)) live.push(status);
    }
    if (self && !self.draining) live.push(self);
    return live;
  }

  /**
   * The oldest revision of `policyId` a live evaluator reports: the revision the gateway routes
   * to. Evaluators that do not report the policy (yet) are not counted, as the gateway does not
   * count them; `Infinity` when none reports it.
   */
  minServed(policyId: string, self: EvaluatorStatus): number {
    let min = Number.POSITIVE_INFINITY;
    for (const status of this.live(self)) {
      const revision = status.loaded[policyId];
      if (revision !== undefined) min = Math.min(min, revision);
    }
    return min;
  }

  stop(): void {
    this.watch?.stop();
  }

  private onEntry(entry: KvWatchEntry, replayed: boolean): void {
    if (entry.operation !== 'PUT') {
      if (this.statuses.delete(entry.key)) this.onChange();
      return;
    }
    let status: EvaluatorStatus;
    try {
      status = decodeEvaluatorStatus(entry.value);
    } catch (error) {
      this.logger.warn({ key: entry.key, reason: messageOf(error) }, 'unreadable evaluator status ignored');
      return;
    }
    if (status.pool !== this.pool) return;
    this.statuses.set(entry.key, { status, seenAt: statusSeenAt(status, replayed, this.now()) });
    this.onChange();
  }
}
