import {
  Bucket,
  decodePolicyConfig,
  encodePolicyConfig,
  policyKey,
  poolPoliciesFilter,
  toWireError,
} from '@castellan/proto';
import type { PolicyConfig, RegistrySources } from '@castellan/proto';
import { ControlErrorCode } from './errors.js';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DesiredPolicy } from './desired-policy.js';
import type { FetchClient } from './fetch-client.js';

/** What publishing did to one policy. */
export type PublishOutcome =
  | { policyId: string; result: 'created' | 'updated' | 'unchanged'; revision: number; config: PolicyConfig }
  | { policyId: string; result: 'removed' }
  | { policyId: string; result: 'failed'; error: { code: string; message: string } };

/**
 * Writes a pool's desired policies to the policy KV. Modules are fetched first, so a revision
 * only ever names a module that is in the store. Writing is level-based: a policy whose config
 * did not change is not written (a write is a rollout), and keys of policies no longer desired
 * are deleted. A policy whose fetch fails keeps its current revision and is reported.
 */
export class PolicyPublisher {
  private constructor(
    private readonly kv: KV,
    private readonly fetcher: FetchClient,
  ) {}

  static async open(nc: NatsConnection, fetcher: FetchClient, replicas = 1): Promise<PolicyPublisher> {
    return new PolicyPublisher(await new Kvm(nc).create(Bucket.Policies, { replicas }), fetcher);
  }

  async publish(
    pool: string,
    desired: DesiredPolicy[],
    sources?: RegistrySources,
  ): Promise<PublishOutcome[]> {
    const outcomes = await Promise.all(desired.map((policy) => this.publishOne(pool, policy, sources)));
    const wanted = new Set(desired.map((policy) => policyKey(pool, policy.policyId)));
    for (const key of await this.keysOf(pool)) {
      if (wanted.has(key)) continue;
      await this.kv.delete(key);
      outcomes.push({ policyId: key.slice(pool.length + 1), result: 'removed' });
    }
    return outcomes;
  }

  private async publishOne(
    pool: string,
    policy: DesiredPolicy,
    sources: RegistrySources | undefined,
  ): Promise<PublishOutcome> {
    const { policyId } = policy;
    try {
      const module = await this.fetcher.fetch({ url: policy.moduleUrl, ...(sources ? { sources } : {}) });
      const config: PolicyConfig = {
        policyId,
        pool,
        module: { url: module.url, sha256: module.sha256 },
        settings: policy.settings,
        policyMode: policy.policyMode,
        allowedToMutate: policy.allowedToMutate,
        ...(policy.customMessage !== undefined ? { customMessage: policy.customMessage } : {}),
        timeoutSeconds: policy.timeoutSeconds,
        failurePolicy: policy.failurePolicy,
        contextAwareResources: policy.contextAwareResources,
        ...(policy.hostCapabilities ? { hostCapabilities: policy.hostCapabilities } : {}),
      };
      const key = policyKey(pool, policyId);
      const current = await this.kv.get(key);
      const encoded = encodePolicyConfig(config);
      if (current?.operation === 'PUT') {
        if (sameConfig(decodePolicyConfig(current.value), config)) {
          return { policyId, result: 'unchanged', revision: current.revision, config };
        }
        return { policyId, result: 'updated', revision: await this.kv.put(key, encoded), config };
      }
      return { policyId, result: 'created', revision: await this.kv.put(key, encoded), config };
    } catch (error) {
      return {
        policyId,
        result: 'failed',
        error: toWireError(error, ControlErrorCode.PublishFailed, `policy ${policyId}`),
      };
    }
  }

  private async keysOf(pool: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys(poolPoliciesFilter(pool))) keys.push(key);
    return keys;
  }
}

function sameConfig(a: PolicyConfig, b: PolicyConfig): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Key order does not make two configs different. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
