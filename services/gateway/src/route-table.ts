import {
  Bucket,
  decodeEvaluatorStatus,
  decodePolicyConfig,
  heartbeatFresh,
  statusSeenAt,
} from '@castellan/proto';
import type { EvaluatorStatus, PolicyConfig } from '@castellan/proto';
import type { KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { PolicyRoute, PolicyRoutes } from './dispatch.js';
import { openKvBucket, watchKv } from '@castellan/service-host';
import type { KvWatch } from '@castellan/service-host';

/** Configs kept per policy, so the revision being routed to still has its own settings. */
const REVISIONS_KEPT = 8;

interface KnownPolicy {
  pool: string;
  /** Revision → config, oldest first. */
  configs: Map<number, PolicyConfig>;
}

interface KnownEvaluator {
  status: EvaluatorStatus;
  /** Local clock time of the last status write seen: liveness never compares two machines' clocks. */
  seenAt: number;
}

/**
 * The gateway's replica of the policy and evaluator KVs, answering "where does a request for
 * this policy go". A policy is routed to the oldest revision any live evaluator of its pool still
 * reports: evaluators keep serving a revision until every live evaluator has loaded the next one,
 * so that revision always has a subscriber that loaded exactly it (docs/rollout.md).
 */
export class RouteTable implements PolicyRoutes {
  private readonly policies = new Map<string, KnownPolicy>();
  private readonly evaluators = new Map<string, KnownEvaluator>();
  private readonly watches: KvWatch[] = [];

  private constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** Starts following both KVs; resolves once their current contents are known. */
  static async start(
    nc: NatsConnection,
    logger: Logger,
    options: { replicas: number; now?: () => number },
  ): Promise<RouteTable> {
    const table = new RouteTable(logger, options.now ?? Date.now);
    const [policies, evaluators] = await Promise.all([
      openKvBucket(nc, Bucket.Policies, options.replicas, 'reader'),
      openKvBucket(nc, Bucket.Evaluators, options.replicas, 'reader'),
    ]);
    table.watches.push(
      await watchKv(nc, policies, '>', (entry) => table.onPolicy(entry), logger),
      await watchKv(nc, evaluators, '>', (entry, replayed) => table.onEvaluator(entry, replayed), logger),
    );
    await Promise.all(table.watches.map((watch) => watch.caughtUp));
    return table;
  }

  get(policyId: string): PolicyRoute | undefined {
    const policy = this.policies.get(policyId);
    if (!policy) return undefined;
    const revision = this.servedRevision(policy.pool, policyId);
    const config = configFor(policy, revision);
    return {
      policyId,
      pool: policy.pool,
      revision,
      policyMode: config.policyMode,
      allowedToMutate: config.allowedToMutate,
      ...(config.customMessage !== undefined ? { customMessage: config.customMessage } : {}),
      timeoutSeconds: config.timeoutSeconds,
      failurePolicy: config.failurePolicy,
    };
  }

  /** True once at least one live evaluator serves every known policy. */
  allPoliciesServed(): boolean {
    return [...this.policies].every(([policyId, policy]) => this.servedRevision(policy.pool, policyId) > 0);
  }

  stop(): void {
    for (const watch of this.watches) watch.stop();
  }

  /**
   * The oldest revision a live evaluator of the pool reports. When no live evaluator reports the
   * policy, the oldest any non-draining evaluator last reported: every evaluator of a pool going
   * silent at once usually means the status KV cannot be written (a JetStream leader election),
   * not that the pool died, and a request that finds no evaluator is answered by failure policy
   * anyway. 0 when no evaluator ever reported the policy.
   */
  private servedRevision(pool: string, policyId: string): number {
    const now = this.now();
    let live = 0;
    let lastKnown = 0;
    const older = (a: number, b: number) => (a === 0 || b < a ? b : a);
    for (const { status, seenAt } of this.evaluators.values()) {
      if (status.pool !== pool || status.draining) continue;
      const revision = status.loaded[policyId];
      if (revision === undefined) continue;
      lastKnown = older(lastKnown, revision);
      if (heartbeatFresh(status, seenAt, now)) live = older(live, revision);
    }
    return live || lastKnown;
  }

  private onPolicy(entry: KvEntry): void {
    if (entry.operation !== 'PUT') {
      const policyId = entry.key.slice(entry.key.indexOf('.') + 1);
      this.policies.delete(policyId);
      return;
    }
    let config: PolicyConfig;
    try {
      config = decodePolicyConfig(entry.value);
    } catch (error) {
      this.logger.error({ key: entry.key, err: error }, 'unreadable policy config ignored');
      return;
    }
    const known = this.policies.get(config.policyId);
    const policy =
      known?.pool === config.pool ? known : { pool: config.pool, configs: new Map<number, PolicyConfig>() };
    if (known && known.pool !== config.pool) {
      this.logger.warn({ policyId: config.policyId, pool: config.pool }, 'policy moved to another pool');
    }
    policy.configs.set(entry.revision, config);
    while (policy.configs.size > REVISIONS_KEPT) {
      const oldest = policy.configs.keys().next().value;
      if (oldest === undefined) break;
      policy.configs.delete(oldest);
    }
    this.policies.set(config.policyId, policy);
  }

  private onEvaluator(entry: KvEntry, replayed: boolean): void {
    if (entry.operation !== 'PUT') {
      this.evaluators.delete(entry.key);
      return;
    }
    try {
      const status = decodeEvaluatorStatus(entry.value);
      this.evaluators.set(entry.key, { status, seenAt: statusSeenAt(status, replayed, this.now()) });
    } catch (error) {
      this.logger.error({ key: entry.key, err: error }, 'unreadable evaluator status ignored');
    }
  }
}

/** The config of the routed revision, else the newest older one, else the newest. */
function configFor(policy: KnownPolicy, revision: number): PolicyConfig {
  let chosen: PolicyConfig | undefined;
  let newest: PolicyConfig | undefined;
  for (const [configRevision, config] of policy.configs) {
    newest = config;
    if (configRevision <= revision) chosen = config;
  }
  // A known policy always holds at least one config.
  return (chosen ?? newest)!;
}
