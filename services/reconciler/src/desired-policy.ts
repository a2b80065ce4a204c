import { DEFAULT_FAILURE_POLICY } from '@castellan/control';
import { DEFAULT_POLICY_TIMEOUT_SECONDS } from '@castellan/proto';
import type { DesiredPolicy } from '@castellan/control';
import type { AnyPolicy, SinglePolicy } from './policy-resources.js';
import { uniqueNameOf } from './unique-name.js';

/** The PolicyServer a policy names when `spec.policyServer` is unset (the CRD's default). */
export const DEFAULT_POOL = 'default';

/** Host capabilities granted to a policy when nothing restricts them (spec §7.4). */
export const ALL_HOST_CAPABILITIES: readonly string[] = ['*'];

/** The pool (PolicyServer name) a policy runs in. */
export function poolOf(policy: AnyPolicy): string {
  return policy.spec.policyServer ?? DEFAULT_POOL;
}

/**
 * The desired state of a ClusterAdmissionPolicy or AdmissionPolicy (spec §7.4, ConfigMap entry).
 * `namespacedPoliciesCapabilities` is the pool's `PolicyServer.spec.namespacedPoliciesCapabilities`;
 * it only restricts namespaced kinds, and unset grants all (as Kubewarden's code does).
 */
export function desiredPolicyOf(
  policy: SinglePolicy,
  namespacedPoliciesCapabilities?: string[],
): DesiredPolicy {
  const { spec } = policy;
  const clusterWide = policy.kind === 'ClusterAdmissionPolicy';
  const hostCapabilities = clusterWide
    ? [...ALL_HOST_CAPABILITIES]
    : [...(namespacedPoliciesCapabilities ?? ALL_HOST_CAPABILITIES)];
  return {
    policyId: uniqueNameOf(policy),
    moduleUrl: spec.module,
    settings: spec.settings ?? {},
    policyMode: spec.mode ?? 'protect',
    allowedToMutate: spec.mutating,
    ...(spec.message !== undefined ? { customMessage: spec.message } : {}),
    timeoutSeconds: spec.timeoutEvalSeconds ?? DEFAULT_POLICY_TIMEOUT_SECONDS,
    failurePolicy: spec.failurePolicy ?? DEFAULT_FAILURE_POLICY,
    // An AdmissionPolicy is never context-aware (spec §7.1).
    contextAwareResources: clusterWide ? [...(policy.spec.contextAwareResources ?? [])] : [],
    hostCapabilities,
  };
}
