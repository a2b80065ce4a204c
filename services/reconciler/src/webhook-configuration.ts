import type { AnyPolicy, LabelSelector, MatchCondition, PolicyRule } from './policy-resources.js';
import { uniqueNameOf } from './unique-name.js';

/** The label every object the reconciler writes carries, so it can find them again. */
export const PART_OF_LABEL = { 'app.kubernetes.io/part-of': 'castellan' } as const;
/** Annotations naming the policy a webhook configuration belongs to. */
export const PolicyAnnotation = {
  Name: 'castellan.dev/policy-name',
  Namespace: 'castellan.dev/policy-namespace',
} as const;
/** The label the API server puts on every namespace, holding its name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** `timeoutSeconds` of a webhook when the policy sets none (the CRD's default). */
export const DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10;
/** Port of the gateway Service that serves every webhook. */
export const GATEWAY_SERVICE_PORT = 443;

/** Where the webhooks point and what they trust. */
export interface WebhookTarget {
  /** The reconciler's (and gateway's) namespace, excluded from cluster-wide policies. */
  namespace: string;
  /** The gateway Service's name (`castellan-gateway`). */
  gatewayService: string;
  /** Where the API server calls the gateway instead of its Service (`CASTELLAN_GATEWAY_URL`). */
  gatewayUrl?: URL | undefined;
  /** `ca.crt` of the CA Secret (plus the old CA during rotation), PEM. */
  caBundlePem: string;
}

/** One admissionregistration.k8s.io/v1 webhook, as the reconciler writes it. */
export interface PolicyWebhook {
  name: string;
  clientConfig:
    | { service: { namespace: string; name: string; path: string; port: number }; caBundle: string }
    | { url: string; caBundle: string };
  rules: PolicyRule[];
  failurePolicy?: 'Ignore' | 'Fail';
  matchPolicy?: 'Exact' | 'Equivalent';
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  sideEffects: 'None' | 'NoneOnDryRun';
  timeoutSeconds: number;
  admissionReviewVersions: ['v1'];
  matchConditions?: MatchCondition[];
}

/** A Validating- or MutatingWebhookConfiguration holding one policy's webhook. */
export interface PolicyWebhookConfiguration {
  apiVersion: 'admissionregistration.k8s.io/v1';
  kind: 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration';
  metadata: {
    name: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  webhooks: [PolicyWebhook];
}

/** Whether a policy needs a MutatingWebhookConfiguration (groups never mutate). */
export function isMutating(policy: AnyPolicy): boolean {
  return 'mutating' in policy.spec && policy.spec.mutating;
}

/**
 * The namespaceSelector of a policy's webhook (docs/kubewarden-compatibility.md#names-and-webhooks). Cluster-wide kinds exclude the
 * Castellan namespace ANDed with the user's matchExpressions (matchLabels are dropped, as
 * Kubewarden does), unless allowInsideAdmissionControllerNamespace; namespaced kinds see only
 * their own namespace.
 */
export function namespaceSelectorOf(policy: AnyPolicy, namespace: string): LabelSelector | undefined {
  if (policy.kind === 'AdmissionPolicy' || policy.kind === 'AdmissionPolicyGroup') {
    return { matchLabels: { [NAMESPACE_NAME_LABEL]: policy.metadata.namespace } };
  }
  const user = policy.spec.namespaceSelector;
  if (policy.spec.allowInsideAdmissionControllerNamespace === true) {
    return user === undefined ? undefined : structuredClone(user);
  }
  return {
    matchExpressions: [
      { key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: [namespace] },
      ...structuredClone(user?.matchExpressions ?? []),
    ],
  };
}

/** The policy's rules; a namespaced policy's are forced to `scope: Namespaced` (docs/kubewarden-compatibility.md#policy-kinds). */
function rulesOf(policy: AnyPolicy): PolicyRule[] {
  const namespaced = policy.kind === 'AdmissionPolicy' || policy.kind === 'AdmissionPolicyGroup';
  return policy.spec.rules.map((rule) => {
    const copy = structuredClone(rule);
    return namespaced ? { ...copy, scope: 'Namespaced' } : copy;
  });
}

/** The gateway Service at `path`, or the gateway URL with `path` appended; the CA to trust. */
function clientConfigOf(target: WebhookTarget, path: string): PolicyWebhook['clientConfig'] {
  const caBundle = Buffer.from(target.caBundlePem, 'utf8').toString('base64');
  if (target.gatewayUrl !== undefined) return { url: new URL(path, target.gatewayUrl).href, caBundle };
  return {
    service: { namespace: target.namespace, name: target.gatewayService, path, port: GATEWAY_SERVICE_PORT },
    caBundle,
  };
}

/**
 * The webhook configuration of one policy (docs/kubewarden-compatibility.md#names-and-webhooks): named by its unique
 * name, one webhook pointing at the gateway's `/validate/<uniqueName>` (mutating ones too).
 */
export function webhookConfigurationOf(policy: AnyPolicy, target: WebhookTarget): PolicyWebhookConfiguration {
  const uniqueName = uniqueNameOf(policy);
  const { spec } = policy;
  const namespaceSelector = namespaceSelectorOf(policy, target.namespace);
  const webhook: PolicyWebhook = {
    name: `${uniqueName}.castellan.dev`,
    clientConfig: clientConfigOf(target, `/validate/${uniqueName}`),
    rules: rulesOf(policy),
    ...(spec.failurePolicy !== undefined ? { failurePolicy: spec.failurePolicy } : {}),
    ...(spec.matchPolicy !== undefined ? { matchPolicy: spec.matchPolicy } : {}),
    ...(namespaceSelector !== undefined ? { namespaceSelector } : {}),
    ...(spec.objectSelector !== undefined ? { objectSelector: structuredClone(spec.objectSelector) } : {}),
    sideEffects: spec.sideEffects ?? 'None',
    timeoutSeconds: spec.timeoutSeconds ?? DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
    admissionReviewVersions: ['v1'],
    ...(spec.matchConditions !== undefined && spec.matchConditions.length > 0
      ? { matchConditions: structuredClone(spec.matchConditions) }
      : {}),
  };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: isMutating(policy) ? 'MutatingWebhookConfiguration' : 'ValidatingWebhookConfiguration',
    metadata: {
      name: uniqueName,
      labels: { ...PART_OF_LABEL },
      annotations: {
        [PolicyAnnotation.Name]: policy.metadata.name,
        // Empty for cluster-wide kinds, as Kubewarden's kubewardenPolicyNamespace is.
        [PolicyAnnotation.Namespace]: policy.metadata.namespace ?? '',
      },
    },
    webhooks: [webhook],
  };
}
