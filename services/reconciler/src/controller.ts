import { readFile } from 'node:fs/promises';
import { EvaluatorDirectory, FetchClient, PolicyPublisher } from '@castellan/control';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { apiFailureOf, describeApiFailure } from './api-failure.js';
import type { CertificateManager } from './certificates.js';
import { CASTELLAN_PLURALS, Cluster } from './cluster.js';
import type { ReconcilerConfig } from './config.js';
import { poolOf } from './desired-policy.js';
import { POOL_LABEL } from './evaluator-workload.js';
import { follow } from './informers.js';
import type { FollowedKind, WatchedKind } from './informers.js';
import type { AnyPolicy } from './policy-resources.js';
import type { PolicyServer } from './policy-server.js';
import { PoolReconciler } from './pool-reconciler.js';
import type { ClusterView } from './pool-reconciler.js';
import { uniqueNameOf } from './unique-name.js';
import { PART_OF_LABEL } from './webhook-configuration.js';
import { WorkQueue } from './work-queue.js';
import type { WorkResult } from './work-queue.js';

/** Work-queue keys that are not pools (pool names are DNS labels, so they cannot clash). */
const CERTIFICATES_KEY = '#certificates';
const WEBHOOK_SWEEP_KEY = '#webhooks';
/** How soon a pool whose write met a conflict runs again, if no update event came first. */
const CONFLICT_RETRY_MS = 200;
/** An evaluator silent this long is gone (a deleted pod); its status key is deleted. */
const SILENT_EVALUATOR_MS = 10 * 60_000;

const POLICY_KINDS = [
  'ClusterAdmissionPolicy',
  'AdmissionPolicy',
  'ClusterAdmissionPolicyGroup',
  'AdmissionPolicyGroup',
] as const;

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  nc: NatsConnection;
  config: ReconcilerConfig;
  certificates: CertificateManager;
  logger: Logger;
}

/**
 * The reconciler's control loop while it leads: informers on every kind it reads, the evaluator
 * statuses from NATS, and one work queue keyed by pool. Any change to a PolicyServer, a policy,
 * a webhook configuration, an evaluator Deployment or credentials Secret, or an evaluator's served
 * revisions queues its pool; every pool is queued again each resync period (which also renews
 * credentials nearing their expiry).
 */
export class Controller {
  private readonly followed: FollowedKind<KubernetesObject>[] = [];
  private queue: WorkQueue | undefined;
  private directory: EvaluatorDirectory | undefined;
  private resync: NodeJS.Timeout | undefined;
  private certificateCheck: NodeJS.Timeout | undefined;
  private caBundlePem = '';
  private pools: PoolReconciler | undefined;
  private view: ClusterView | undefined;

  constructor(private readonly options: ControllerOptions) {}

  /** Starts following the cluster and NATS; resolves once every cache is filled and the TLS material exists. */
  async start(): Promise<void> {
    const { kubeConfig, nc, config, logger } = this.options;
    const enqueue = (key: string) => this.queue?.add(key);
    const watch = <T extends KubernetesObject>(watched: WatchedKind, onChange: (object: T) => void) => {
      const followed = follow<T>(kubeConfig, watched, onChange, logger);
      this.followed.push(followed);
      return followed.cache;
    };
    const castellan = (kind: keyof typeof CASTELLAN_PLURALS): WatchedKind => ({
      apiVersion: 'policies.castellan.dev/v1',
      kind,
      path: `/apis/policies.castellan.dev/v1/${CASTELLAN_PLURALS[kind]}`,
    });
    const owned = (apiVersion: string, kind: string, path: string, labelSelector: string): WatchedKind => ({
      apiVersion,
      kind,
      path,
      labelSelector,
      ...(path.includes('/namespaces/') ? { namespace: config.namespace } : {}),
    });
    const partOf = Object.entries(PART_OF_LABEL)
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    const byPoolLabel = (object: KubernetesObject) => {
      const pool = object.metadata?.labels?.[POOL_LABEL];
      if (pool) enqueue(pool);
    };
    const webhookChanged = (object: KubernetesObject) => {
      enqueue(WEBHOOK_SWEEP_KEY);
      const policy = this.policyNamed(object.metadata?.name ?? '');
      if (policy) enqueue(poolOf(policy));
    };
    const apps = `/apis/apps/v1/namespaces/${config.namespace}/deployments`;
    const budgets = `/apis/policy/v1/namespaces/${config.namespace}/poddisruptionbudgets`;
    const secrets = `/api/v1/namespaces/${config.namespace}/secrets`;
    const admission = '/apis/admissionregistration.k8s.io/v1';
    const view: ClusterView = {
      policyServers: watch<PolicyServer>(castellan('PolicyServer'), (server) =>
        enqueue(server.metadata.name),
      ),
      policies: POLICY_KINDS.map((kind) =>
        watch<AnyPolicy & KubernetesObject>(castellan(kind), (policy) => enqueue(poolOf(policy))),
      ),
      webhooks: {
        ValidatingWebhookConfiguration: watch(
          owned(
            'admissionregistration.k8s.io/v1',
            'ValidatingWebhookConfiguration',
            `${admission}/validatingwebhookconfigurations`,
            partOf,
          ),
          webhookChanged,
        ),
        MutatingWebhookConfiguration: watch(
          owned(
            'admissionregistration.k8s.io/v1',
            'MutatingWebhookConfiguration',
            `${admission}/mutatingwebhookconfigurations`,
            partOf,
          ),
          webhookChanged,
        ),
      },
      deployments: watch(owned('apps/v1', 'Deployment', apps, `${POOL_LABEL}`), byPoolLabel),
      disruptionBudgets: watch(
        owned('policy/v1', 'PodDisruptionBudget', budgets, `${POOL_LABEL}`),
        byPoolLabel,
      ),
      credentials: watch(owned('v1', 'Secret', secrets, `${POOL_LABEL}`), byPoolLabel),
    };
    this.view = view;
    this.directory = await EvaluatorDirectory.open(nc, {
      replicas: config.jetstreamReplicas,
      logger,
      onChange: (pool) => enqueue(pool),
    });
    const publisher = await PolicyPublisher.open(nc, new FetchClient(nc), config.jetstreamReplicas);
    this.pools = new PoolReconciler({
      cluster: new Cluster(kubeConfig),
      view,
      publisher,
      directory: this.directory,
      caBundle: () => this.caBundlePem,
      // Read each time: the kubelet refreshes the mounted file when the Secret is rotated.
      natsCaPem: () => readFile(config.natsCaFile, 'utf8'),
      config,
      logger,
    });
    await Promise.all(this.followed.map((followed) => followed.synced));
    this.caBundlePem = (await this.options.certificates.ensure()).caBundlePem;
    logger.info('caches filled and TLS material in place: reconciling');

    this.queue = new WorkQueue((key) => this.work(key), logger);
    this.queueEverything();
    this.resync = setInterval(() => this.queueEverything(), config.resyncSeconds * 1000);
    this.certificateCheck = setInterval(
      () => enqueue(CERTIFICATES_KEY),
      config.certificateCheckSeconds * 1000,
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    clearInterval(this.certificateCheck);
    await this.queue?.stop();
    this.directory?.stop();
    await Promise.all(this.followed.map((followed) => followed.stop()));
  }

  private queueEverything(): void {
    if (!this.queue || !this.pools) return;
    void this.forgetSilentEvaluators();
    this.queue.add(CERTIFICATES_KEY);
    this.queue.add(WEBHOOK_SWEEP_KEY);
    for (const pool of this.pools.pools()) this.queue.add(pool);
  }

  private async work(key: string): Promise<WorkResult> {
    if (key === CERTIFICATES_KEY) return this.checkCertificates();
    if (key === WEBHOOK_SWEEP_KEY) return this.sweepWebhooks();
    if (!this.pools) return {};
    try {
      return await this.pools.reconcile(key);
    } catch (error) {
      // Optimistic concurrency at work: the object changed since the cache was read. Its update
      // event queues the pool again; this is a safety net, not a failure.
      if (apiFailureOf(error)?.code !== 409) throw error;
      this.options.logger.debug(
        { pool: key, reason: describeApiFailure(error) },
        'write conflict; reconciling again',
      );
      return { requeueAfterMs: CONFLICT_RETRY_MS };
    }
  }

  /** Deletes the status keys of evaluators silent for {@link SILENT_EVALUATOR_MS}. */
  private async forgetSilentEvaluators(): Promise<void> {
    try {
      const forgotten = (await this.directory?.forgetSilent(SILENT_EVALUATOR_MS)) ?? [];
      if (forgotten.length > 0)
        this.options.logger.info({ forgotten }, 'status of silent evaluators deleted');
    } catch (error) {
      this.options.logger.warn(
        { reason: describeApiFailure(error) },
        'cannot delete silent evaluator statuses',
      );
    }
  }

  /** Rotates the TLS material when due; a new caBundle goes to every webhook. */
  private async checkCertificates(): Promise<WorkResult> {
    const { caBundlePem, changed } = await this.options.certificates.ensure();
    if (changed || caBundlePem !== this.caBundlePem) {
      this.caBundlePem = caBundlePem;
      this.options.logger.info('TLS material changed: updating every webhook caBundle');
      for (const pool of this.pools?.pools() ?? []) this.queue?.add(pool);
    }
    return {};
  }

  /** Withdraws webhook configurations whose policy is gone (its finalizer removed by hand, say). */
  private async sweepWebhooks(): Promise<WorkResult> {
    if (!this.view || !this.pools) return {};
    for (const [kind, cache] of Object.entries(this.view.webhooks)) {
      for (const webhook of cache.list()) {
        const name = webhook.metadata?.name ?? '';
        if (this.policyNamed(name)) continue;
        this.options.logger.warn(
          { webhook: name, kind },
          'webhook of a policy that no longer exists: withdrawing it',
        );
        await this.pools.removeWebhook(kind as keyof ClusterView['webhooks'], name);
      }
    }
    return {};
  }

  /** The policy whose unique name (its webhook configuration's name) is `uniqueName`. */
  private policyNamed(uniqueName: string): AnyPolicy | undefined {
    for (const cache of this.view?.policies ?? []) {
      for (const policy of cache.list()) {
        try {
          if (uniqueNameOf(policy) === uniqueName) return policy;
        } catch {
          // A policy with an unusable name has no webhook.
        }
      }
    }
    return undefined;
  }
}
