import { ModuleStore } from '@castellan/module-store';
import { Bucket } from '@castellan/proto';
import { PolicyEvaluator } from '@castellan/runtime';
import type { PolicyLogEntry } from '@castellan/runtime';
import { openKvBucket } from '@castellan/service-host';
import type { KvWatch } from '@castellan/service-host';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { EvaluatorConfig } from './config.js';
import { HostCapabilityGrants } from './host-capabilities.js';
import { ModuleCache } from './module-cache.js';
import type { ModuleSource } from './module-cache.js';
import { PolicyLoader } from './policy-loader.js';
import { PolicySlot } from './policy-slot.js';
import { watchPoolPolicies } from './policy-watcher.js';
import { PoolView } from './pool-view.js';
import type { PolicyRevision } from './revision-state.js';
import { StatusReporter } from './status-reporter.js';

export interface EvaluatorDeps {
  nc: NatsConnection;
  config: EvaluatorConfig;
  logger: Logger;
  /** Where module bytes come from; default the module store on `nc`. */
  moduleSource?: ModuleSource;
}

export interface EvaluatorService {
  readonly evaluatorId: string;
  /** Resolves once the pool's policies present at start are served (loaded, or failed and reported). */
  readonly ready: Promise<void>;
  /** What this evaluator serves now, policy id → revisions with a subscription (oldest first). */
  served(): Record<string, number[]>;
  /**
   * Graceful shutdown: reports itself draining, drains every subscription (requests received are
   * answered), closes the workers and deletes its status.
   */
  stop(): Promise<void>;
}

/** Builds an evaluator of `config.pool` serving the pool's policies from the policy KV. */
export function buildEvaluator({
  nc,
  config,
  logger: baseLogger,
  moduleSource,
}: EvaluatorDeps): EvaluatorService {
  const logger = baseLogger.child({ pool: config.pool, evaluatorId: config.evaluatorId });
  const grants = new HostCapabilityGrants();
  const evaluator = new PolicyEvaluator({
    workers: config.workers,
    hostCallHandler: grants.handler,
    logSink: (entry) => logPolicyEntry(logger, entry),
  });
  const slots = new Map<string, PolicySlot>();
  let status: StatusReporter | undefined;
  let poolView: PoolView | undefined;
  let policyWatch: KvWatch | undefined;
  let beat: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;

  const reviewAll = (): void => {
    for (const slot of slots.values()) slot.reviewRetirements();
  };

  const start = async (): Promise<void> => {
    const replicas = config.jetstreamReplicas;
    const [policiesKv, evaluatorsKv, source] = await Promise.all([
      // The control plane creates the policies bucket, the fetcher the module store.
      openKvBucket(nc, Bucket.Policies, replicas, 'reader'),
      openKvBucket(nc, Bucket.Evaluators, replicas),
      moduleSource ?? ModuleStore.open(nc, { replicas, role: 'reader' }),
    ]);
    if (stopping) return;
    const reporter = new StatusReporter({
      kv: evaluatorsKv,
      pool: config.pool,
      evaluatorId: config.evaluatorId,
      heartbeatMs: config.heartbeatMs,
      logger,
    });
    status = reporter;
    await reporter.write();
    if (stopping) return;
    beat = setInterval(() => {
      void reporter.write();
      // Liveness expires with time, not with an event: look again at every beat.
      reviewAll();
    }, config.heartbeatMs);

    const view = await PoolView.open(nc, evaluatorsKv, config.pool, reviewAll, logger);
    poolView = view;
    if (stopping) return view.stop();

    const loader = new PolicyLoader({
      pool: config.pool,
      evaluator,
      modules: new ModuleCache(source, config.memoryLimitMiB),
      grants,
    });
    const slotFor = (policyId: string): PolicySlot => {
      const existing = slots.get(policyId);
      if (existing && !existing.removed) return existing;
      const slot: PolicySlot = new PolicySlot({
        nc,
        pool: config.pool,
        policyId,
        loader,
        evaluator,
        status: reporter,
        rolloutGraceMs: config.rolloutGraceMs,
        retryBaseMs: config.heartbeatMs,
        minServedInPool: () => view.minServed(policyId, reporter.snapshot()),
        onRemoved: () => {
          if (slots.get(policyId) === slot) slots.delete(policyId);
          grants.revoke(policyId);
        },
        logger,
      });
      slots.set(policyId, slot);
      return slot;
    };
    policyWatch = await watchPoolPolicies(
      nc,
      policiesKv,
      config.pool,
      {
        onPut: (revision: PolicyRevision) => {
          if (!stopping) slotFor(revision.policyId).offer(revision);
        },
        onDelete: (policyId, revision) => slots.get(policyId)?.withdraw(revision),
      },
      logger,
    );
    if (stopping) return policyWatch.stop();
    await policyWatch.caughtUp;
    await Promise.all([...slots.values()].map((slot) => slot.settled()));
    // Ready means reported too: the gateway can route to what was loaded.
    await reporter.write();
    logger.info({ policies: slots.size, workers: evaluator.workers }, 'evaluator ready');
  };

  const ready = start();
  // `ready` is the caller's to await; a rejection it ignores must not end the process.
  ready.catch(() => undefined);

  const stop = async (): Promise<void> => {
    clearInterval(beat);
    policyWatch?.stop();
    poolView?.stop();
    await status?.markDraining();
    await Promise.all([...slots.values()].map((slot) => slot.close()));
    await evaluator.close();
    await status?.delete();
    logger.info('evaluator stopped');
  };

  return {
    evaluatorId: config.evaluatorId,
    ready,
    served: () => Object.fromEntries([...slots].map(([policyId, slot]) => [policyId, slot.servedRevisions])),
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}

function logPolicyEntry(logger: Logger, entry: PolicyLogEntry): void {
  const level = entry.level === 'warning' ? 'warn' : entry.level;
  logger[level]({ policyId: entry.policyId || undefined, ...entry.fields, source: 'policy' }, entry.message);
}
