import type { FailurePolicy, GroupMemberConfig, PolicyConfig, PolicyGroupConfig } from '@castellan/proto';

/** The Kubernetes default for a webhook's failure policy. */
export const DEFAULT_FAILURE_POLICY: FailurePolicy = 'Fail';

/** The longest Kubernetes lets the API server wait for a webhook (`timeoutSeconds` ≤ 30). */
export const MAX_WEBHOOK_TIMEOUT_SECONDS = 30;

/**
 * A policy as its operator declares it, before its modules are fetched: a {@link PolicyConfig}
 * without its pool, with module URLs where the config has fetched digests, and exactly one of
 * `moduleUrl` (a policy) and `group` (a policy group). For a group, `settings` is `{}`,
 * `allowedToMutate` false, `contextAwareResources` empty (members carry their own), and
 * `timeoutSeconds` the deadline of the whole group ({@link groupTimeoutSeconds}).
 */
export type DesiredPolicy = Omit<PolicyConfig, 'pool' | 'module' | 'group' | 'executionMode'> & {
  moduleUrl?: string;
  group?: DesiredPolicyGroup;
};

/**
 * A policy group (docs/kubewarden-compatibility.md#policy-groups): members combined by a boolean expression
 * over their verdicts.
 */
export type DesiredPolicyGroup = Omit<PolicyGroupConfig, 'members'> & {
  /** member name → member, in declaration order */
  members: Record<string, DesiredGroupMember>;
};

/** One member of a policy group, before its module is fetched. */
export type DesiredGroupMember = Omit<GroupMemberConfig, 'module'> & { moduleUrl: string };

/**
 * How long the gateway waits for a whole group: the sum of its members' timeouts, since they
 * may run one after another, but never longer than the API server waits for a webhook.
 */
export function groupTimeoutSeconds(members: readonly Pick<DesiredGroupMember, 'timeoutSeconds'>[]): number {
  const sum = members.reduce((total, member) => total + member.timeoutSeconds, 0);
  return Math.min(sum, MAX_WEBHOOK_TIMEOUT_SECONDS);
}

/**
 * The desired state of a policy group: it never mutates, has no settings or resources of its own
 * (its members carry theirs), and the gateway waits for {@link groupTimeoutSeconds} of its members.
 */
export function desiredPolicyGroup(
  declared: Pick<DesiredPolicy, 'policyId' | 'policyMode' | 'failurePolicy' | 'hostCapabilities'> & {
    group: DesiredPolicyGroup;
  },
): DesiredPolicy {
  return {
    ...declared,
    settings: {},
    allowedToMutate: false,
    timeoutSeconds: groupTimeoutSeconds(Object.values(declared.group.members)),
    contextAwareResources: [],
  };
}
