import type { ContextAwareResource, FailurePolicy, MessageFields, PolicyMode } from '@castellan/proto';

/** Deadline of one evaluation when a policy sets none (policy-server's `--policy-timeout`). */
export const DEFAULT_POLICY_TIMEOUT_SECONDS = 2;
/** The Kubernetes default for a webhook's failure policy. */
export const DEFAULT_FAILURE_POLICY: FailurePolicy = 'Fail';

/** A policy as its operator declares it, before its module is fetched. */
export interface DesiredPolicy {
  policyId: string;
  moduleUrl: string;
  settings: MessageFields;
  policyMode: PolicyMode;
  allowedToMutate: boolean;
  customMessage?: string;
  timeoutSeconds: number;
  failurePolicy: FailurePolicy;
  contextAwareResources: ContextAwareResource[];
  hostCapabilities?: string[];
}
