export { ReconcilerError, ReconcilerErrorCode } from './errors.js';
export { POLICIES_API_VERSION } from './policy-resources.js';
export type {
  AdmissionPolicy,
  AdmissionPolicyGroup,
  AdmissionPolicyGroupSpec,
  AdmissionPolicySpec,
  AnyPolicy,
  ClusterAdmissionPolicy,
  ClusterAdmissionPolicyGroup,
  ClusterAdmissionPolicyGroupSpec,
  ClusterAdmissionPolicySpec,
  ClusterGroupMember,
  GroupMember,
  LabelSelector,
  LabelSelectorRequirement,
  MatchCondition,
  PolicyMetadata,
  PolicyRule,
  SinglePolicy,
  WebhookSpec,
} from './policy-resources.js';
export { describePolicy, uniqueNameOf } from './unique-name.js';
export { ALL_HOST_CAPABILITIES, DEFAULT_POOL, desiredPolicyOf, poolOf } from './desired-policy.js';
export {
  DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
  GATEWAY_SERVICE_PORT,
  NAMESPACE_NAME_LABEL,
  PART_OF_LABEL,
  PolicyAnnotation,
  isMutating,
  namespaceSelectorOf,
  webhookConfigurationOf,
} from './webhook-configuration.js';
export type { PolicyWebhook, PolicyWebhookConfiguration, WebhookTarget } from './webhook-configuration.js';
