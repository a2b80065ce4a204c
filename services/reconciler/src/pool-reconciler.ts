import { ControlErrorCode } from '@castellan/control';
import type { EvaluatorDirectory, PolicyPublisher, PublishOutcome } from '@castellan/control';
import type { DesiredPolicy } from '@castellan/control';
import type {
  KubernetesObject,
  ObjectCache,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Secret,
} from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { apiFailureOf, describeApiFailure } from './api-failure.js';
import type { CastellanObject, Cluster } from './cluster.js';
import { withTransitions } from './conditions.js';
import type { ConditionState } from './conditions.js';
import type { ReconcilerConfig } from './config.js';
import { desiredPolicyOf, poolOf } from './desired-policy.js';
import { evaluatorCredentialsSecretName, poolCredentialsOf } from './evaluator-credentials.js';
import { evaluatorImageOf } from './evaluator-image.js';
import { evaluatorWorkloadOf } from './evaluator-workload.js';
import type { PolicyServerOwner } from './evaluator-workload.js';
import type { AnyPolicy, PolicyStatus } from './policy-resources.js';
import type { PolicyServer } from './policy-server.js';
import { policyStatusOf, uniquelyReachable } from './policy-status.js';
import type { PolicyObservation } from './policy-status.js';
import { describePolicy, uniqueNameOf } from './unique-name.js';
import { webhookConfigurationOf } from './webhook-configuration.js';
import type { WorkResult } from './work-queue.js';

/** The finalizer the reconciler puts on policies and PolicyServers. */
export const FINALIZER = 'policies.castellan.dev/finalizer';
/** How soon a policy waiting for its evaluators is looked at again (Kubewarden: 2 s). */
const PENDING_RECHECK_MS = 2_000;
/** How soon a pool whose module fetch failed is published again. */
const PUBLISH_RETRY_MS = 5_000;

const WEBHOOK_KINDS = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'] as const;

/** The informer caches the reconciler reads. */
export interface ClusterView {
  policyServers: ObjectCache<PolicyServer>;
  /** One cache per policy kind. */
  policies: ObjectCache<AnyPolicy>[];
  webhooks: Record<(typeof WEBHOOK_KINDS)[number], ObjectCache<KubernetesObject>>;
  deployments: ObjectCache<V1Deployment>;
  disruptionBudgets: ObjectCache<V1PodDisruptionBudget>;
  /** The Secrets of the pools' NATS credentials. */
  credentials: ObjectCache<V1Secret>;
}

export interface PoolReconcilerOptions {
  cluster: Cluster;
  view: ClusterView;
  publisher: PolicyPublisher;
  directory: EvaluatorDirectory;
  /** The current `caBundle` of every webhook (PEM). */
  caBundle: () => string;
  /** The CA of the NATS servers (PEM), which each pool's credentials Secret carries. */
  natsCaPem: () => Promise<string>;
  config: ReconcilerConfig;
  logger: Logger;
  now?: () => Date;
}

interface Publication {
  /** The desired state it was made from. */
  key: string;
  outcomes: Map<string, PublishOutcome>;
  at: number;
}

/**
 * Brings one evaluator pool (a PolicyServer and every policy naming it) to its desired state, in
 * the order of docs/kubewarden-compatibility.md#reconciliation-order: finalizers; the evaluator Deployment; webhooks of policies that can no longer
 * be served withdrawn first; the pool's policies written to the policy KV (modules fetched first);
 * a webhook registered or updated only once every live evaluator serves the policy's revision;
 * finalizers of deleted policies and of a deleted PolicyServer removed last. Status is written
 * only when it changed.
 */
export class PoolReconciler {
  private readonly publications = new Map<string, Publication>();

  constructor(private readonly options: PoolReconcilerOptions) {}

  /** Every pool named by a PolicyServer or by a policy. */
  pools(): Set<string> {
    const pools = new Set(this.options.view.policyServers.list().map((server) => server.metadata.name));
    for (const policy of this.allPolicies()) pools.add(poolOf(policy));
    return pools;
  }

  async reconcile(pool: string): Promise<WorkResult> {
    const { cluster, view } = this.options;
    const policyServer = view.policyServers.get(pool);
    const policies = this.allPolicies().filter((policy) => poolOf(policy) === pool);

    // Finalizers first: the update each one causes runs the pool again with fresh objects.
    let addedFinalizer = false;
    for (const object of [...policies, ...(policyServer ? [policyServer] : [])]) {
      if (isDeleting(object) || object.metadata.finalizers?.includes(FINALIZER)) continue;
      await cluster.setFinalizers(asCastellan(object), [...(object.metadata.finalizers ?? []), FINALIZER]);
      addedFinalizer = true;
    }
    if (addedFinalizer) return {};

    const serving = policyServer !== undefined && !isDeleting(policyServer);
    if (policyServer && serving) await this.reconcileWorkload(policyServer);

    const observations = new Map<AnyPolicy, PolicyObservation>();
    const desired: { policy: AnyPolicy; desired: DesiredPolicy }[] = [];
    for (const policy of policies) {
      const blocked = this.blockedReason(policy, pool, policyServer);
      if (blocked || isDeleting(policy)) {
        await this.withdrawWebhook(policy);
        if (blocked) observations.set(policy, blocked);
        continue;
      }
      desired.push({
        policy,
        desired: desiredPolicyOf(policy, policyServer?.spec.namespacedPoliciesCapabilities),
      });
    }

    const outcomes = await this.publish(pool, desired);
    let pending = false;
    let failed = false;
    for (const { policy, desired: wanted } of desired) {
      const outcome = outcomes.get(wanted.policyId);
      const observation = await this.observePublished(pool, policy, outcome);
      observations.set(policy, observation);
      pending ||= observation.kind === 'published' && !uniquelyReachable(observation.reach);
      failed ||= observation.kind === 'unpublished';
    }

    for (const [policy, observation] of observations) await this.writePolicyStatus(policy, observation);
    for (const policy of policies) {
      if (isDeleting(policy)) await this.removeFinalizer(policy);
    }
    if (policyServer && !serving) {
      await this.writeServerStatus(policyServer, [
        succeeded('PolicyWebhooksCleanedUp', `no policy of pool ${pool} has a webhook any more`),
      ]);
      await this.removeFinalizer(policyServer);
    }
    if (pending) return { requeueAfterMs: PENDING_RECHECK_MS };
    if (failed) return { requeueAfterMs: PUBLISH_RETRY_MS };
    return {};
  }

  /** Every policy of every kind in the caches. */
  private allPolicies(): AnyPolicy[] {
    return this.options.view.policies.flatMap((cache) => [...cache.list()]);
  }

  /** Why a policy cannot be served at all, or undefined when it can. */
  private blockedReason(
    policy: AnyPolicy,
    pool: string,
    policyServer: PolicyServer | undefined,
  ): PolicyObservation | undefined {
    try {
      uniqueNameOf(policy);
    } catch (error) {
      return {
        kind: 'blocked',
        phase: 'pending',
        reason: 'PolicyNameInvalid',
        message: (error as Error).message,
      };
    }
    if (!policyServer) {
      return {
        kind: 'blocked',
        phase: 'scheduled',
        reason: 'PolicyServerMissing',
        message: `PolicyServer ${pool} does not exist: create it, or recreate the policy naming an existing one`,
      };
    }
    if (isDeleting(policyServer)) {
      return {
        kind: 'blocked',
        phase: 'scheduled',
        reason: 'PolicyServerDeleting',
        message: `PolicyServer ${pool} is being deleted; its webhooks are withdrawn`,
      };
    }
    return undefined;
  }

  /**
   * Writes the pool's policies to the KV. The result is reused while the desired state is the
   * same and the last attempt neither failed nor is older than the resync period: every publish
   * asks the fetcher for every module, and `:latest` tags are resolved again each time.
   */
  private async publish(
    pool: string,
    desired: { desired: DesiredPolicy }[],
  ): Promise<Map<string, PublishOutcome>> {
    const policies = desired.map((entry) => entry.desired);
    const key = JSON.stringify(policies);
    const previous = this.publications.get(pool);
    const fresh = previous && Date.now() - previous.at < this.options.config.resyncSeconds * 1000;
    const failedBefore = previous && [...previous.outcomes.values()].some((o) => o.result === 'failed');
    if (previous?.key === key && fresh && !failedBefore) return previous.outcomes;
    const outcomes = await this.options.publisher.publish(pool, policies);
    for (const outcome of outcomes) {
      if (outcome.result !== 'unchanged') {
        this.options.logger.info(
          { pool, policyId: outcome.policyId, result: outcome.result },
          'policy store written',
        );
      }
    }
    const byId = new Map(outcomes.map((outcome) => [outcome.policyId, outcome]));
    this.publications.set(pool, { key, outcomes: byId, at: Date.now() });
    return byId;
  }

  /** Gates the webhook of a published policy on its evaluators, and says where it stands. */
  private async observePublished(
    pool: string,
    policy: AnyPolicy,
    outcome: PublishOutcome | undefined,
  ): Promise<PolicyObservation> {
    const registered = this.webhookOf(policy) !== undefined;
    if (!outcome || outcome.result === 'removed') {
      return {
        kind: 'unpublished',
        reason: 'PublishFailed',
        message: 'not written yet',
        webhookRegistered: registered,
      };
    }
    if (outcome.result === 'failed') {
      return {
        kind: 'unpublished',
        reason: publishFailureReason(outcome.error.code),
        message: `${outcome.error.message} (${outcome.error.code})`,
        webhookRegistered: registered,
      };
    }
    const reach = this.options.directory.reach(pool, outcome.policyId, outcome.revision);
    if (uniquelyReachable(reach)) {
      try {
        await this.registerWebhook(policy);
      } catch (error) {
        // A configuration the API server refuses (a matchConditions expression that does not
        // compile, say) is this policy's problem only; a conflict is retried for the whole pool.
        if (apiFailureOf(error)?.code === 409) throw error;
        return {
          kind: 'blocked',
          phase: registered ? 'active' : 'pending',
          reason: 'WebhookRejected',
          message: `the API server refused the webhook configuration: ${describeApiFailure(error)}`,
        };
      }
    }
    return {
      kind: 'published',
      pool,
      revision: outcome.revision,
      mode: outcome.config.policyMode,
      reach,
      webhookRegistered: uniquelyReachable(reach) || registered,
    };
  }

  private async registerWebhook(policy: AnyPolicy): Promise<void> {
    const { config } = this.options;
    const desired = webhookConfigurationOf(policy, {
      namespace: config.namespace,
      gatewayService: config.gatewayService,
      gatewayUrl: config.gatewayUrl,
      caBundlePem: this.options.caBundle(),
    });
    // A policy that stopped (or started) mutating moves to the other kind of configuration.
    for (const kind of WEBHOOK_KINDS) {
      if (kind !== desired.kind) await this.removeWebhook(kind, desired.metadata.name);
    }
    const current = this.options.view.webhooks[desired.kind].get(desired.metadata.name);
    if (await this.options.cluster.ensure(desired, current)) {
      this.options.logger.info(
        { policy: describePolicy(policy), webhook: desired.metadata.name },
        'webhook registered',
      );
    }
  }

  private webhookOf(policy: AnyPolicy): KubernetesObject | undefined {
    const name = uniqueNameOf(policy);
    return WEBHOOK_KINDS.map((kind) => this.options.view.webhooks[kind].get(name)).find(Boolean);
  }

  private async withdrawWebhook(policy: AnyPolicy): Promise<void> {
    let name: string;
    try {
      name = uniqueNameOf(policy);
    } catch {
      return; // A policy whose name is unusable never had a webhook.
    }
    for (const kind of WEBHOOK_KINDS) await this.removeWebhook(kind, name);
  }

  /** Deletes one webhook configuration, if the cache holds it. */
  async removeWebhook(kind: (typeof WEBHOOK_KINDS)[number], name: string): Promise<void> {
    if (!this.options.view.webhooks[kind].get(name)) return;
    await this.options.cluster.remove({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind,
      metadata: { name },
    });
    this.options.logger.info({ webhook: name, kind }, 'webhook withdrawn');
  }

  /**
   * The evaluator Deployment (and PodDisruptionBudget) of a PolicyServer, and its status. A
   * PolicyServer whose image is refused gets only the status: its workload is left as it is.
   */
  private async reconcileWorkload(policyServer: PolicyServer): Promise<void> {
    const { cluster, view, config, logger } = this.options;
    const image = evaluatorImageOf(policyServer.spec.image, config);
    if (image.kind === 'refused') {
      const refused: ConditionState = {
        type: 'DeploymentReconciled',
        status: 'False',
        reason: 'ImageRefused',
        message: image.message,
      };
      if (await this.writeServerStatus(policyServer, [refused])) {
        logger.warn(
          { pool: policyServer.metadata.name, reason: image.message },
          'PolicyServer image refused',
        );
      }
      return;
    }
    const owner: PolicyServerOwner = {
      apiVersion: 'policies.castellan.dev/v1',
      kind: 'PolicyServer',
      name: policyServer.metadata.name,
      uid: policyServer.metadata.uid ?? '',
    };
    const workload = evaluatorWorkloadOf(policyServer, {
      namespace: config.namespace,
      image: image.image,
      evaluatorServiceAccount: config.evaluatorServiceAccount,
      commonEnv: [
        { name: 'CASTELLAN_NATS_URL', value: config.natsUrl },
        { name: 'CASTELLAN_JETSTREAM_REPLICAS', value: String(config.jetstreamReplicas) },
        { name: 'CASTELLAN_LOG_LEVEL', value: config.logLevel },
      ],
      owner,
    });
    const name = workload.deployment.metadata?.name ?? '';
    const conditions: ConditionState[] = [];
    let failure: Error | undefined;
    // The credentials first: the pods of the Deployment wait for their Secret.
    try {
      const { secret, expiresAt } = await this.reconcileCredentials(policyServer.metadata.name, owner);
      conditions.push(
        succeeded(
          'NatsCredentialsReconciled',
          `the NATS credentials of pool ${policyServer.metadata.name} in Secret ${secret} are valid until ${expiresAt.toISOString()}`,
        ),
      );
    } catch (error) {
      failure = asError(error);
      conditions.push(failed('NatsCredentialsReconciled', error));
    }
    try {
      await cluster.ensure(workload.deployment, view.deployments.get(name, config.namespace));
      conditions.push(
        succeeded(
          'DeploymentReconciled',
          image.kind === 'substituted' ? image.message : `evaluator Deployment ${name} is up to date`,
        ),
      );
    } catch (error) {
      failure ??= asError(error);
      conditions.push(failed('DeploymentReconciled', error));
    }
    try {
      const current = view.disruptionBudgets.get(name, config.namespace);
      if (workload.podDisruptionBudget) {
        await cluster.ensure(workload.podDisruptionBudget, current);
        conditions.push(
          succeeded('PodDisruptionBudgetReconciled', `PodDisruptionBudget ${name} is up to date`),
        );
      } else {
        if (current) await cluster.remove(current);
        conditions.push(succeeded('PodDisruptionBudgetReconciled', 'no PodDisruptionBudget is asked for'));
      }
    } catch (error) {
      failure ??= asError(error);
      conditions.push(failed('PodDisruptionBudgetReconciled', error));
    }
    const sourcesNotice = perPoolSourcesNotice(policyServer);
    if (sourcesNotice) conditions.push(sourcesNotice);
    await this.writeServerStatus(policyServer, conditions);
    if (failure) throw failure;
  }

  /**
   * The Secret of the pool's NATS credentials, issued again only when due (evaluator-credentials.ts);
   * returns its name and when the credentials it holds expire.
   */
  private async reconcileCredentials(
    pool: string,
    owner: PolicyServerOwner,
  ): Promise<{ secret: string; expiresAt: Date }> {
    const { cluster, view, config, logger } = this.options;
    const secret = evaluatorCredentialsSecretName(pool);
    const current = view.credentials.get(secret, config.namespace);
    const credentials = await poolCredentialsOf(current, {
      pool,
      namespace: config.namespace,
      authority: config.natsAuthority,
      caPem: await this.options.natsCaPem(),
      owner,
      now: this.now(),
    });
    if (await cluster.ensure(credentials.secret, current)) {
      const reason = credentials.issuedBecause;
      if (reason !== undefined) logger.info({ pool, secret, reason }, 'NATS credentials issued');
      else logger.info({ pool, secret }, 'NATS credentials Secret updated');
    }
    return { secret, expiresAt: credentials.expiresAt };
  }

  private async writePolicyStatus(policy: AnyPolicy, observation: PolicyObservation): Promise<void> {
    const { status, conditions } = policyStatusOf(observation);
    const next: PolicyStatus = {
      ...status,
      conditions: withTransitions(
        conditions,
        policy.status?.conditions,
        policy.metadata.generation,
        this.now(),
      ),
    };
    if (isDeepStrictEqual(normalised(policy.status), normalised(next))) return;
    await this.options.cluster.setStatus(asCastellan(policy), next);
  }

  /** Writes the conditions when they changed; says whether it wrote. */
  private async writeServerStatus(policyServer: PolicyServer, states: ConditionState[]): Promise<boolean> {
    const previous = policyServer.status?.conditions ?? [];
    const updated = withTransitions(states, previous, policyServer.metadata.generation, this.now());
    const kept = previous.filter((condition) => !states.some((state) => state.type === condition.type));
    const next = { conditions: [...kept, ...updated] };
    if (isDeepStrictEqual(normalised(policyServer.status), normalised(next))) return false;
    await this.options.cluster.setStatus(asCastellan(policyServer), next);
    return true;
  }

  private async removeFinalizer(object: AnyPolicy | PolicyServer): Promise<void> {
    const finalizers = object.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return;
    await this.options.cluster.setFinalizers(
      asCastellan(object),
      finalizers.filter((finalizer) => finalizer !== FINALIZER),
    );
  }

  private now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }
}

function isDeleting(object: AnyPolicy | PolicyServer): boolean {
  return object.metadata.deletionTimestamp !== undefined && object.metadata.deletionTimestamp !== null;
}

/** The whole object as read: replacing it must carry its spec unchanged. */
function asCastellan(object: AnyPolicy | PolicyServer): CastellanObject {
  return object;
}

/** A status as JSON would carry it (Dates from the informer become strings). */
function normalised(status: unknown): unknown {
  return status === undefined ? undefined : JSON.parse(JSON.stringify(status));
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function succeeded(type: string, message: string): ConditionState {
  return { type, status: 'True', reason: 'ReconciliationSucceeded', message };
}

function failed(type: string, error: unknown): ConditionState {
  return {
    type,
    status: 'False',
    reason: 'ReconciliationFailed',
    message: describeApiFailure(error),
  };
}

/** The condition reason of a policy the publisher could not write: most often, a module not fetched. */
function publishFailureReason(code: string): string {
  if (code === ControlErrorCode.PolicyInvalid) return 'PolicyInvalid';
  if (code === ControlErrorCode.PublishFailed) return 'PublishFailed';
  return 'ModuleFetchFailed';
}

/**
 * Kubewarden applies a PolicyServer's `insecureSources` and `sourceAuthorities` to that server's
 * pulls. Castellan's fetcher serves every pool and takes registry trust from its own sources.yml
 * only, never from a request (a requester must not be able to switch TLS verification off): the
 * fields are said to be ignored rather than silently dropped.
 */
function perPoolSourcesNotice(policyServer: PolicyServer): ConditionState | undefined {
  const { insecureSources = [], sourceAuthorities = {} } = policyServer.spec;
  if (insecureSources.length === 0 && Object.keys(sourceAuthorities).length === 0) return undefined;
  return {
    type: 'SourcesIgnored',
    status: 'True',
    reason: 'FetcherOwnsSources',
    message:
      "insecureSources and sourceAuthorities are not applied per PolicyServer: list them in the fetcher's sources.yml (CASTELLAN_SOURCES_PATH)",
  };
}
