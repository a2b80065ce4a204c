import type { ContextAwareResource, FailurePolicy, MessageFields, PolicyMode } from '@castellan/proto';

/** The Kubernetes default for a webhook's failure policy. */
export const DEFAULT_FAILURE_POLICY: FailurePolicy = 'Fail';

/** The longest Kubernetes lets the API server wait for a webhook (`timeoutSeconds` ≤ 30). */
export const MAX_WEBHOOK_TIMEOUT_SECONDS = 30;

/**
 * A policy as its operator declares it, before its modules are fetched: exactly one of
 * `moduleUrl` (a policy) and `group` (a policy group).
 */
export interface DesiredPolicy {
  policyId: string;
  moduleUrl?: string;
  group?: DesiredPolicyGroup;
  /** `{}` for a group: its members carry their own. */
  settings: MessageFields;
  policyMode: PolicyMode;
  /** Always false for a group: groups only validate. */
  allowedToMutate: boolean;
  customMessage?: string;
  /** For a group, the deadline of the whole group: {@link groupTimeoutSeconds} of its members. */
  timeoutSeconds: number;
  failurePolicy: FailurePolicy;
  /** `[]` for a group: its members carry their own. */
  contextAwareResources: ContextAwareResource[];
  hostCapabilities?: string[];
}

/** A policy group (spec §6.2, §7.2): members combined by a boolean expression over their verdicts. */
export interface DesiredPolicyGroup {
  /** Members called as zero-argument functions, e.g. `a() || (b() && !c())`. */
  expression: string;
  /** The message of a denial by the group. */
  message: string;
  /** member name → member, in declaration order */
  members: Record<string, DesiredGroupMember>;
}

/** One member of a policy group, before its module is fetched. */
export interface DesiredGroupMember {
  moduleUrl: string;
  settings: MessageFields;
  timeoutSeconds: number;
  contextAwareResources: ContextAwareResource[];
  hostCapabilities?: string[];
}

/**
 * How long the gateway waits for a whole group: the sum of its members' timeouts, since they
 * may run one after another, but never longer than the API server waits for a webhook.
 */
export function groupTimeoutSeconds(members: readonly Pick<DesiredGroupMember, 'timeoutSeconds'>[]): number {
  const sum = members.reduce((total, member) => total + member.timeoutSeconds, 0);
  return Math.min(sum, MAX_WEBHOOK_TIMEOUT_SECONDS);
}
