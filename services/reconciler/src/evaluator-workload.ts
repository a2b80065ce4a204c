import { ClusterBusSecretKey, credentialsSecretName } from '@castellan/bus-auth';
import type {
  IntOrString,
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1ObjectMeta,
  V1OwnerReference,
  V1PodDisruptionBudget,
  V1PodSecurityContext,
  V1PodSpec,
  V1SecurityContext,
} from '@kubernetes/client-node';
import type { PolicyServer, PolicyServerSpec } from './policy-server.js';

/** The label naming the pool an evaluator pod serves; the production pool's anti-affinity selects on it. */
export const POOL_LABEL = 'castellan.dev/pool';
// The variable telling an evaluator which pool it serves.
const POOL_ENV = 'CASTELLAN_POOL';
/** Where an evaluator pod mounts its pool's NATS credentials Secret. */
export const NATS_CREDENTIALS_DIR = '/var/run/castellan/nats';
/**
 * World-readable inside the pod: the pool's security context may set no fsGroup, and the files
 * would then be root's alone. Only the evaluator container mounts them.
 */
const NATS_CREDENTIALS_MODE = 0o444;
// Name of the evaluator container in the pod.
const EVALUATOR_CONTAINER = 'evaluator';

const EVALUATOR_NAME = 'castellan-evaluator';
/** Where the Castellan image keeps the built services (the Containerfile's WORKDIR). */
const APP_DIR = '/app';
/** Long enough for an evaluator to report itself draining and answer the requests it received. */
const TERMINATION_GRACE_PERIOD_SECONDS = 30;
const REVISION_HISTORY_LIMIT = 5;
const TMP_SIZE_LIMIT = '64Mi';

/**
 * The restricted Pod Security defaults of the `default` PolicyServer
 * (deploy/charts/castellan/templates/policyserver-default.yaml), for pools that set no security context: the Castellan
 * namespace enforces the restricted standard and would reject their pods otherwise.
 */
const RESTRICTED_POD_SECURITY_CONTEXT: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  seccompProfile: { type: 'RuntimeDefault' },
};
const RESTRICTED_CONTAINER_SECURITY_CONTEXT: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The PolicyServer that owns the evaluator workload (garbage collection deletes it with the pool). */
export interface PolicyServerOwner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** What the reconciler knows about its own installation that goes into every evaluator pool. */
export interface EvaluatorWorkloadOptions {
  /** The reconciler's namespace, where the evaluators run. */
  namespace: string;
  /** The image the evaluators run: `spec.image` once allowed, or its substitute (evaluator-image.ts). */
  image: string;
  /** `CASTELLAN_EVALUATOR_SERVICE_ACCOUNT`: used when `spec.serviceAccountName` is empty. */
  evaluatorServiceAccount: string;
  /** The reconciler's own `CASTELLAN_NATS_URL`, `CASTELLAN_JETSTREAM_REPLICAS`, `CASTELLAN_LOG_LEVEL`. */
  commonEnv: V1EnvVar[];
  owner: PolicyServerOwner;
}

/** The objects that run one evaluator pool. */
export interface EvaluatorWorkload {
  deployment: V1Deployment;
  /** Only when the PolicyServer sets `minAvailable` or `maxUnavailable`. */
  podDisruptionBudget?: V1PodDisruptionBudget;
}

/** Name of the Deployment (and PodDisruptionBudget) of an evaluator pool. */
export function evaluatorDeploymentName(pool: string): string {
  return `${EVALUATOR_NAME}-${pool}`;
}

/**
 * The Deployment (and PodDisruptionBudget) running the evaluator pool of a PolicyServer
 * (deploy/README.md, "Evaluator Deployments"). Pure and deterministic: the same PolicyServer and
 * options give deep-equal objects, which share nothing with the input. Only pool settings go in:
 * policies, sources and verification reach evaluators and the fetcher over NATS, so changing them
 * never rolls the pool.
 */
export function evaluatorWorkloadOf(
  policyServer: PolicyServer,
  options: EvaluatorWorkloadOptions,
): EvaluatorWorkload {
  const pool = policyServer.metadata.name;
  const { spec } = policyServer;
  const name = evaluatorDeploymentName(pool);
  const selector = { 'app.kubernetes.io/name': EVALUATOR_NAME, [POOL_LABEL]: pool };
  const ownLabels = {
    ...selector,
    'app.kubernetes.io/component': 'evaluator',
    'app.kubernetes.io/part-of': 'castellan',
  };
  const labels = { ...spec.labels, ...ownLabels };

  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: options.namespace,
      labels,
      ...annotationsOf(spec),
      ownerReferences: [ownerReferenceOf(options.owner)],
    },
    spec: {
      replicas: spec.replicas,
      revisionHistoryLimit: REVISION_HISTORY_LIMIT,
      selector: { matchLabels: { ...selector } },
      // Start a replacement before stopping an evaluator, so the pool never serves with fewer
      // replicas than asked for: with one replica, stopping first would leave it with none.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { ...labels }, ...annotationsOf(spec) },
        spec: podSpecOf(pool, spec, options),
      },
    },
  };
  const podDisruptionBudget = podDisruptionBudgetOf(spec, selector, {
    name,
    namespace: options.namespace,
    labels: { ...ownLabels },
    ownerReferences: [ownerReferenceOf(options.owner)],
  });
  return { deployment, ...(podDisruptionBudget !== undefined ? { podDisruptionBudget } : {}) };
}

function podSpecOf(pool: string, spec: PolicyServerSpec, options: EvaluatorWorkloadOptions): V1PodSpec {
  const container: V1Container = {
    name: EVALUATOR_CONTAINER,
    image: options.image,
    command: ['node', 'services/evaluator/dist/main.js'],
    workingDir: APP_DIR,
    env: evaluatorEnvOf(pool, options.commonEnv, spec.env ?? []),
    resources: {
      ...(spec.requests !== undefined ? { requests: quantitiesOf(spec.requests) } : {}),
      ...(spec.limits !== undefined ? { limits: quantitiesOf(spec.limits) } : {}),
    },
    securityContext: structuredClone(
      spec.securityContexts?.container ?? RESTRICTED_CONTAINER_SECURITY_CONTEXT,
    ),
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'nats', mountPath: NATS_CREDENTIALS_DIR, readOnly: true },
    ],
  };
  const pullSecret = nonEmptyString(spec.imagePullSecret);
  return {
    serviceAccountName: nonEmptyString(spec.serviceAccountName) ?? options.evaluatorServiceAccount,
    // Evaluators do not call the Kubernetes API (no host capability reaches it yet).
    automountServiceAccountToken: false,
    // Service links would add variables such as CASTELLAN_NATS_PORT to the evaluator's environment.
    enableServiceLinks: false,
    terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SECONDS,
    securityContext: structuredClone(spec.securityContexts?.pod ?? RESTRICTED_POD_SECURITY_CONTEXT),
    ...optional('priorityClassName', nonEmptyString(spec.priorityClassName)),
    // The pool's registry credentials often cover a private copy of the Castellan image too; the
    // policy modules themselves are fetched by the fetcher, not by the evaluators.
    ...optional('imagePullSecrets', pullSecret === undefined ? undefined : [{ name: pullSecret }]),
    ...optional('affinity', structuredClone(spec.affinity)),
    ...optional('tolerations', structuredClone(spec.tolerations)),
    containers: [container],
    volumes: [
      { name: 'tmp', emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
      // The pool's own credentials, and no other pool's (evaluator-credentials.ts writes them).
      {
        name: 'nats',
        secret: {
          secretName: credentialsSecretName({ role: 'evaluator', pool }),
          defaultMode: NATS_CREDENTIALS_MODE,
        },
      },
    ],
  };
}

/**
 * `CASTELLAN_POOL` and the pool's NATS credentials, then the reconciler's common variables, then
 * `spec.env`. A later entry of the same name wins, as in Kubernetes, but only the winner is kept,
 * at its own position: server-side apply refuses duplicate names in `env`. The first three are the
 * pool's identity (the NATS subjects its policies are served on, the credentials that let it take
 * them), so `spec.env` cannot change them.
 */
function evaluatorEnvOf(pool: string, commonEnv: V1EnvVar[], userEnv: V1EnvVar[]): V1EnvVar[] {
  const identity = [
    { name: POOL_ENV, value: pool },
    { name: 'CASTELLAN_NATS_CREDS', value: `${NATS_CREDENTIALS_DIR}/${ClusterBusSecretKey.Credentials}` },
    { name: 'CASTELLAN_NATS_CA', value: `${NATS_CREDENTIALS_DIR}/${ClusterBusSecretKey.Ca}` },
  ];
  const entries = [
    ...identity,
    ...[...commonEnv, ...userEnv].filter((entry) => !identity.some((own) => own.name === entry.name)),
  ];
  const winner = new Map(entries.map((entry, index) => [entry.name, index]));
  return entries
    .filter((entry, index) => winner.get(entry.name) === index)
    .map((entry) => structuredClone(entry));
}

/** The PodDisruptionBudget of the pool, when it asks for one. */
function podDisruptionBudgetOf(
  spec: PolicyServerSpec,
  selector: Record<string, string>,
  metadata: V1ObjectMeta,
): V1PodDisruptionBudget | undefined {
  if (spec.minAvailable === undefined && spec.maxUnavailable === undefined) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata,
    spec: {
      ...optional('minAvailable', spec.minAvailable),
      ...optional('maxUnavailable', spec.maxUnavailable),
      selector: { matchLabels: { ...selector } },
      // A pod that is not Ready protects nothing: let node drains evict it.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}

export function ownerReferenceOf(owner: PolicyServerOwner): V1OwnerReference {
  const { apiVersion, kind, name, uid } = owner;
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** Quantities as strings (`2` → `"2"`), the form the API server returns them in. */
function quantitiesOf(quantities: Record<string, IntOrString>): Record<string, string> {
  return Object.fromEntries(Object.entries(quantities).map(([resource, value]) => [resource, String(value)]));
}

/** `{annotations}` from `spec.annotations` when there are any: the API server drops an empty map. */
function annotationsOf(spec: PolicyServerSpec): { annotations?: Record<string, string> } {
  const { annotations = {} } = spec;
  return Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {};
}

function nonEmptyString(value?: string): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** `{key: value}`, or nothing when the value is unset, so that objects hold no `undefined`. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
