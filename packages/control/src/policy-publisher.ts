import {
  Bucket,
  decodePolicyConfig,
  encodePolicyConfig,
  GROUP_MEMBER_NAME_PATTERN,
  policyKey,
  poolKeyFilter,
  toWireError,
} from '@castellan/proto';
import type { GroupMemberConfig, PolicyConfig, WireError } from '@castellan/proto';
import { ControlError, ControlErrorCode } from './errors.js';
import { openKvBucket } from '@castellan/service-host';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DesiredPolicy } from './desired-policy.js';
import { FetchFailure } from './fetch-client.js';
import type { FetchClient } from './fetch-client.js';

/** What publishing did to one policy. */
export type PublishOutcome =
  | { policyId: string; result: 'created' | 'updated' | 'unchanged'; revision: number; config: PolicyConfig }
  | { policyId: string; result: 'removed' }
  | { policyId: string; result: 'failed'; error: { code: string; message: string } };

/**
 * Writes a pool's desired policies to the policy KV. Modules (every member's, for a group) are
 * fetched first, so a revision only ever names modules that are in the store. Writing is
 * level-based: a policy whose config did not change is not written (a write is a rollout), and keys
 * of policies no longer desired are deleted. A policy whose fetch fails (any member's, for a group)
 * keeps its current revision and is reported.
 */
export class PolicyPublisher {
  private constructor(
    private readonly kv: KV,
    private readonly fetcher: FetchClient,
  ) {}

  static async open(nc: NatsConnection, fetcher: FetchClient, replicas = 1): Promise<PolicyPublisher> {
    return new PolicyPublisher(await openKvBucket(nc, Bucket.Policies, replicas), fetcher);
  }

  async publish(pool: string, desired: DesiredPolicy[]): Promise<PublishOutcome[]> {
    const outcomes = await Promise.all(desired.map((policy) => this.publishOne(pool, policy)));
    const wanted = new Set(desired.map((policy) => policyKey(pool, policy.policyId)));
    for (const key of await this.keysOf(pool)) {
      if (wanted.has(key)) continue;
      await this.kv.delete(key);
      outcomes.push({ policyId: key.slice(pool.length + 1), result: 'removed' });
    }
    return outcomes;
  }

  private async publishOne(pool: string, policy: DesiredPolicy): Promise<PublishOutcome> {
    const { policyId } = policy;
    try {
      const config: PolicyConfig = {
        policyId,
        pool,
        ...(await this.fetchModules(policy)),
        settings: policy.group ? {} : policy.settings,
        policyMode: policy.policyMode,
        allowedToMutate: policy.group ? false : policy.allowedToMutate,
        ...(policy.customMessage !== undefined ? { customMessage: policy.customMessage } : {}),
        timeoutSeconds: policy.timeoutSeconds,
        failurePolicy: policy.failurePolicy,
        contextAwareResources: policy.group ? [] : policy.contextAwareResources,
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

  /** The module of a policy, or the module of every member of a group. */
  private async fetchModules(policy: DesiredPolicy): Promise<Pick<PolicyConfig, 'module' | 'group'>> {
    const fetch = async (url: string) => {
      const module = await this.fetcher.fetch({ url });
      return { url: module.url, sha256: module.sha256 };
    };
    const { moduleUrl, group } = policy;
    if (moduleUrl !== undefined && group === undefined) return { module: await fetch(moduleUrl) };
    if (moduleUrl !== undefined || group === undefined) {
      throw new ControlError(
        ControlErrorCode.PolicyInvalid,
        `policy ${policy.policyId}: declares ${moduleUrl !== undefined ? 'both' : 'neither'} a module and a group; it needs exactly one`,
      );
    }
    const entries = Object.entries(group.members);
    // Evaluators refuse such a config; it must not reach the KV.
    const badName = entries.find(([name]) => !GROUP_MEMBER_NAME_PATTERN.test(name));
    if (entries.length === 0 || badName) {
      throw new ControlError(
        ControlErrorCode.PolicyInvalid,
        badName
          ? `policy ${policy.policyId}: member name ${JSON.stringify(badName[0])} is not an identifier (${GROUP_MEMBER_NAME_PATTERN.source})`
          : `policy ${policy.policyId}: a group needs at least one member`,
      );
    }
    const results = await Promise.allSettled(
      entries.map(async ([, { moduleUrl, hostCapabilities, ...member }]): Promise<GroupMemberConfig> => ({
        ...member,
        module: await fetch(moduleUrl),
        ...(hostCapabilities ? { hostCapabilities } : {}),
      })),
    );
    const members: Record<string, GroupMemberConfig> = {};
    const failures: { name: string; error: WireError }[] = [];
    results.forEach((result, index) => {
      const name = entries[index]?.[0] ?? '';
      if (result.status === 'fulfilled') members[name] = result.value;
      else
        failures.push({ name, error: toWireError(result.reason, ControlErrorCode.PublishFailed, 'fetch') });
    });
    const [first] = failures;
    if (first) {
      // Every failed member is named; the first one's code says what kind of failure it was.
      throw new FetchFailure({
        code: first.error.code,
        message: failures.map(({ name, error }) => `member ${name}: ${error.message}`).join('; '),
      });
    }
    return { group: { expression: group.expression, message: group.message, members } };
  }

  private async keysOf(pool: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys(poolKeyFilter(pool))) keys.push(key);
    return keys;
  }
}

function sameConfig(a: PolicyConfig, b: PolicyConfig): boolean {
  return (
    JSON.stringify(canonical(a)) === JSON.stringify(canonical(b)) &&
    // Members are declared in an order, which evaluators keep; reordering them is a change.
    sameKeyOrder(a.group?.members ?? {}, b.group?.members ?? {})
  );
}

function sameKeyOrder(a: object, b: object): boolean {
  return Object.keys(a).join('\n') === Object.keys(b).join('\n');
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
