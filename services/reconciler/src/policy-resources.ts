import type { ContextAwareResource, FailurePolicy, PolicyMode } from '@castellan/proto';

/** The API group and version of Castellan's policy kinds. */
export const POLICIES_API_VERSION = 'policies.castellan.dev/v1';

/** A `metav1.LabelSelectorRequirement`. */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** A `metav1.LabelSelector`. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** An admissionregistration/v1 `RuleWithOperations`. */
export interface PolicyRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: ('*' | 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT')[];
  scope?: 'Cluster' | 'Namespaced' | '*';
}

/** An admissionregistration/v1 `MatchCondition` (a CEL expression). */
export interface MatchCondition {
  name: string;
  expression: string;
}

/** The webhook fields every policy kind shares (docs/kubewarden-compatibility.md#policy-kinds). */
export interface WebhookSpec {
  policyServer?: string;
  mode?: PolicyMode;
  rules: PolicyRule[];
  failurePolicy?: FailurePolicy;
  backgroundAudit?: boolean;
  matchPolicy?: 'Exact' | 'Equivalent';
  matchConditions?: MatchCondition[];
  objectSelector?: LabelSelector;
  sideEffects?: 'None' | 'NoneOnDryRun';
  timeoutSeconds?: number;
}

/** `PolicySpec` of an AdmissionPolicy (docs/kubewarden-compatibility.md#policy-kinds). */
export interface AdmissionPolicySpec extends WebhookSpec {
  module: string;
  settings?: Record<string, unknown> | null;
  mutating: boolean;
  timeoutEvalSeconds?: number;
  message?: string;
}

/** `PolicySpec` of a ClusterAdmissionPolicy: an AdmissionPolicy's plus the cluster-wide fields. */
export interface ClusterAdmissionPolicySpec extends AdmissionPolicySpec {
  namespaceSelector?: LabelSelector;
  contextAwareResources?: ContextAwareResource[];
  allowInsideAdmissionControllerNamespace?: boolean;
}

/** One member of a policy group (docs/kubewarden-compatibility.md#group-kinds). */
export interface GroupMember {
  module: string;
  settings?: Record<string, unknown> | null;
  timeoutEvalSeconds?: number;
}

/** One member of a ClusterAdmissionPolicyGroup. */
export interface ClusterGroupMember extends GroupMember {
  contextAwareResources?: ContextAwareResource[];
}

/** `GroupSpec` of an AdmissionPolicyGroup (docs/kubewarden-compatibility.md#group-kinds). */
export interface AdmissionPolicyGroupSpec extends WebhookSpec {
  expression: string;
  message: string;
  policies: Record<string, GroupMember>;
}

/** `GroupSpec` of a ClusterAdmissionPolicyGroup. */
export interface ClusterAdmissionPolicyGroupSpec extends WebhookSpec {
  expression: string;
  message: string;
  policies: Record<string, ClusterGroupMember>;
  namespaceSelector?: LabelSelector;
  allowInsideAdmissionControllerNamespace?: boolean;
}

/** The metadata the reconciler reads. */
export interface PolicyMetadata {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  finalizers?: string[];
  /** Set once deletion was asked for (a string on the wire; client-node types it as a Date). */
  deletionTimestamp?: Date;
}

/** A `metav1.Condition`. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** Where a policy is in its life (docs/kubewarden-compatibility.md#policy-status). */
export type PolicyPhase = 'unscheduled' | 'scheduled' | 'pending' | 'active';

/** `status` of the four policy kinds (docs/kubewarden-compatibility.md#policy-status). */
export interface PolicyStatus {
  policyStatus?: PolicyPhase;
  mode?: 'protect' | 'monitor' | 'unknown';
  conditions?: Condition[];
}

/** A ClusterAdmissionPolicy resource. */
export interface ClusterAdmissionPolicy {
  apiVersion?: string;
  kind: 'ClusterAdmissionPolicy';
  metadata: PolicyMetadata;
  spec: ClusterAdmissionPolicySpec;
  status?: PolicyStatus;
}

/** An AdmissionPolicy resource (namespaced). */
export interface AdmissionPolicy {
  apiVersion?: string;
  kind: 'AdmissionPolicy';
  metadata: PolicyMetadata & { namespace: string };
  spec: AdmissionPolicySpec;
  status?: PolicyStatus;
}

/** A ClusterAdmissionPolicyGroup resource. */
export interface ClusterAdmissionPolicyGroup {
  apiVersion?: string;
  kind: 'ClusterAdmissionPolicyGroup';
  metadata: PolicyMetadata;
  spec: ClusterAdmissionPolicyGroupSpec;
  status?: PolicyStatus;
}

/** An AdmissionPolicyGroup resource (namespaced). */
export interface AdmissionPolicyGroup {
  apiVersion?: string;
  kind: 'AdmissionPolicyGroup';
  metadata: PolicyMetadata & { namespace: string };
  spec: AdmissionPolicyGroupSpec;
  status?: PolicyStatus;
}

/** A single (non-group) policy. */
export type SinglePolicy = ClusterAdmissionPolicy | AdmissionPolicy;

/** Any of the four policy kinds. */
export type AnyPolicy = SinglePolicy | ClusterAdmissionPolicyGroup | AdmissionPolicyGroup;
