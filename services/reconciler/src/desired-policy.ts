import { DEFAULT_FAILURE_POLICY, desiredPolicyGroup } from '@castellan/control';
import { DEFAULT_POLICY_TIMEOUT_SECONDS } from '@castellan/proto';
import type { DesiredGroupMember, DesiredPolicy } from '@castellan/control';
import type {
  AdmissionPolicyGroup,
  AnyPolicy,
  ClusterAdmissionPolicyGroup,
  ClusterGroupMember,
} from './policy-resources.js';
import { uniqueNameOf } from './unique-name.js';

/** The PolicyServer a policy names when `spec.policyServer` is unset (the CRD's default). */
export const DEFAULT_POOL = 'default';

/** Host capabilities granted to a policy when nothing restricts them (docs/kubewarden-compatibility.md#capability-allow-lists). */
export const ALL_HOST_CAPABILITIES: readonly string[] = ['*'];

/** The pool (PolicyServer name) a policy runs in. */
export function poolOf(policy: AnyPolicy): string {
  return policy.spec.policyServer ?? DEFAULT_POOL;
}

/** Host capabilities of a policy: cluster-wide kinds get all; namespaced ones what the pool allows. */
function hostCapabilitiesOf(
  policy: AnyPolicy,
  namespacedPoliciesCapabilities: string[] | undefined,
): string[] {
  const clusterWide =
    policy.kind === 'ClusterAdmissionPolicy' || policy.kind === 'ClusterAdmissionPolicyGroup';
  return clusterWide
    ? [...ALL_HOST_CAPABILITIES]
    : [...(namespacedPoliciesCapabilities ?? ALL_HOST_CAPABILITIES)];
}

/**
 * The desired state of a policy of any kind, as a policies-file entry (docs/kubewarden-compatibility.md#policies-file).
 * `namespacedPoliciesCapabilities` is the pool's `PolicyServer.spec.namespacedPoliciesCapabilities`;
 * it only restricts namespaced kinds, and unset grants all (as Kubewarden's code does).
 */
export function desiredPolicyOf(policy: AnyPolicy, namespacedPoliciesCapabilities?: string[]): DesiredPolicy {
  if (policy.kind === 'ClusterAdmissionPolicyGroup' || policy.kind === 'AdmissionPolicyGroup') {
    return desiredGroupOf(policy, namespacedPoliciesCapabilities);
  }
  const { spec } = policy;
  const clusterWide = policy.kind === 'ClusterAdmissionPolicy';
  return {
    policyId: uniqueNameOf(policy),
    moduleUrl: spec.module,
    settings: spec.settings ?? {},
    policyMode: spec.mode ?? 'protect',
    allowedToMutate: spec.mutating,
    ...(spec.message !== undefined ? { customMessage: spec.message } : {}),
    timeoutSeconds: spec.timeoutEvalSeconds ?? DEFAULT_POLICY_TIMEOUT_SECONDS,
    failurePolicy: spec.failurePolicy ?? DEFAULT_FAILURE_POLICY,
    // An AdmissionPolicy is never context-aware (docs/kubewarden-compatibility.md#policy-kinds).
    contextAwareResources: clusterWide ? [...(policy.spec.contextAwareResources ?? [])] : [],
    hostCapabilities: hostCapabilitiesOf(policy, namespacedPoliciesCapabilities),
  };
}

/**
 * A ClusterAdmissionPolicyGroup or AdmissionPolicyGroup (docs/kubewarden-compatibility.md#group-kinds): members in the order
 * the manifest lists them, each with its own settings, timeout and capabilities; the group never
 * mutates, and the gateway waits for all its members' timeouts.
 */
function desiredGroupOf(
  policy: ClusterAdmissionPolicyGroup | AdmissionPolicyGroup,
  namespacedPoliciesCapabilities: string[] | undefined,
): DesiredPolicy {
  const { spec } = policy;
  const hostCapabilities = hostCapabilitiesOf(policy, namespacedPoliciesCapabilities);
  const clusterWide = policy.kind === 'ClusterAdmissionPolicyGroup';
  const members: Record<string, DesiredGroupMember> = {};
  for (const [name, member] of Object.entries(spec.policies)) {
    members[name] = {
      moduleUrl: member.module,
      settings: member.settings ?? {},
      timeoutSeconds: member.timeoutEvalSeconds ?? DEFAULT_POLICY_TIMEOUT_SECONDS,
      // Members of an AdmissionPolicyGroup are never context-aware.
      contextAwareResources: clusterWide
        ? [...((member as ClusterGroupMember).contextAwareResources ?? [])]
        : [],
      hostCapabilities: [...hostCapabilities],
    };
  }
  return desiredPolicyGroup({
    policyId: uniqueNameOf(policy),
    group: { expression: spec.expression, message: spec.message, members },
    policyMode: spec.mode ?? 'protect',
    failurePolicy: spec.failurePolicy ?? DEFAULT_FAILURE_POLICY,
    hostCapabilities,
  });
}
