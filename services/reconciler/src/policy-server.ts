import type {
  IntOrString,
  V1Affinity,
  V1EnvVar,
  V1PodSecurityContext,
  V1SecurityContext,
  V1Toleration,
} from '@kubernetes/client-node';
import type { Condition, PolicyMetadata } from './policy-resources.js';

/** Security contexts of the evaluator pods and their container. */
export interface PolicyServerSecurityContexts {
  container?: V1SecurityContext;
  pod?: V1PodSecurityContext;
}

/**
 * `PolicyServerSpec` (deploy/crds/policies.castellan.dev_policyservers.yaml): an evaluator pool,
 * with Kubewarden's PolicyServer fields. The sources, verification and capability fields configure
 * the fetcher and the policies of the pool, not its Deployment.
 */
export interface PolicyServerSpec {
  /** Container image of the evaluators (the Castellan image). */
  image: string;
  replicas: number;
  /** PodDisruptionBudget of the pool; exclusive with `maxUnavailable`. */
  minAvailable?: IntOrString;
  /** PodDisruptionBudget of the pool; exclusive with `minAvailable`. */
  maxUnavailable?: IntOrString;
  /** Added to the Deployment and its pods. */
  annotations?: Record<string, string>;
  /** Added to the Deployment and its pods; Castellan's own labels win. */
  labels?: Record<string, string>;
  /** Extra environment variables of the evaluator container. */
  env?: V1EnvVar[];
  /** `castellan-evaluator` when unset. */
  serviceAccountName?: string;
  /** A `kubernetes.io/dockerconfigjson` Secret in the Castellan namespace: registry credentials. */
  imagePullSecret?: string;
  /** Registries reached over plain HTTP or with unverified TLS (sources.yml `insecure_sources`). */
  insecureSources?: string[];
  /** Registry host → PEM CA certificates trusted for it (sources.yml `source_authorities`). */
  sourceAuthorities?: Record<string, string[]>;
  /** ConfigMap holding the Sigstore verification configuration (key `verification-config`). */
  verificationConfig?: string;
  /** ConfigMap holding a Sigstore trust configuration (key `sigstore-trust-config`). */
  sigstoreTrustConfig?: string;
  securityContexts?: PolicyServerSecurityContexts;
  affinity?: V1Affinity;
  /** Resource limits of the evaluator container (quantities). */
  limits?: Record<string, IntOrString>;
  /** Resource requests of the evaluator container (quantities). */
  requests?: Record<string, IntOrString>;
  tolerations?: V1Toleration[];
  priorityClassName?: string;
  /** Host capabilities granted to the namespaced policies of the pool; all when unset. */
  namespacedPoliciesCapabilities?: string[];
  /** Accepted for Kubewarden compatibility; evaluators listen on no port. */
  webhookPort?: number;
  /** Accepted for Kubewarden compatibility; evaluators listen on no port. */
  readinessProbePort?: number;
  /** Accepted for Kubewarden compatibility; evaluators listen on no port. */
  metricsPort?: number;
}

/** Observed state of the evaluator pool, written by the reconciler. */
export interface PolicyServerStatus {
  conditions?: Condition[];
}

/** A PolicyServer resource (cluster-scoped): the evaluator pool named after it. */
export interface PolicyServer {
  apiVersion?: string;
  kind: 'PolicyServer';
  metadata: Omit<PolicyMetadata, 'namespace'>;
  spec: PolicyServerSpec;
  status?: PolicyServerStatus;
}
