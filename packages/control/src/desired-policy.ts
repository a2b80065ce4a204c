import type { ContextAwareResource, FailurePolicy, MessageFields, PolicyMode } from '@castellan/proto';

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
