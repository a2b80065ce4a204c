import { readFile } from 'node:fs/promises';
import type { V1Deployment, V1EnvVar, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { evaluatorDeploymentName, evaluatorWorkloadOf } from './evaluator-workload.js';
import type { EvaluatorWorkload, EvaluatorWorkloadOptions } from './evaluator-workload.js';
import type { PolicyServer } from './policy-server.js';

const CASTELLAN_IMAGE = 'ghcr.io/castellan-dev/castellan:0.1.0';
const KUBEWARDEN_IMAGE = 'ghcr.io/kubewarden/policy-server:v1.20.0';
const COMMON_ENV: V1EnvVar[] = [
  { name: 'CASTELLAN_NATS_URL', value: 'nats://castellan-nats:4222' },
  { name: 'CASTELLAN_JETSTREAM_REPLICAS', value: '3' },
  { name: 'CASTELLAN_LOG_LEVEL', value: 'info' },
];
const OWNER = {
  apiVersion: 'policies.castellan.dev/v1',
  kind: 'PolicyServer',
  name: 'tenant-a',
  uid: '6f1c1a52-0d0e-4a8c-9d43-7a1f4d1b2c3e',
};
const options: EvaluatorWorkloadOptions = {
  namespace: 'castellan',
  image: CASTELLAN_IMAGE,
  evaluatorServiceAccount: 'castellan-evaluator',
  commonEnv: COMMON_ENV,
  owner: OWNER,
};
const OWNER_REFERENCE = { ...OWNER, controller: true, blockOwnerDeletion: true };
/** Where every evaluator finds its pool's NATS credentials (the Secret mounted at /var/run/castellan/nats). */
const natsEnv: V1EnvVar[] = [
  { name: 'CASTELLAN_NATS_CREDS', value: '/var/run/castellan/nats/nats.creds' },
  { name: 'CASTELLAN_NATS_CA', value: '/var/run/castellan/nats/ca.crt' },
];

/** Reads a PolicyServer manifest of deploy/ (relative to that directory). */
async function deployed(path: string): Promise<PolicyServer> {
  const url = new URL(`../../../deploy/${path}`, import.meta.url);
  return parse(await readFile(url, 'utf8')) as PolicyServer;
}

/** A minimal PolicyServer, with `spec` fields added or replaced. */
function policyServer(spec: Partial<PolicyServer['spec']> = {}, name = 'pool-x'): PolicyServer {
  return {
    apiVersion: 'policies.castellan.dev/v1',
    kind: 'PolicyServer',
    metadata: { name, uid: 'uid-x' },
    spec: { image: CASTELLAN_IMAGE, replicas: 1, ...spec },
  };
}

/** Validates every built object with its kubernetes-models class (the OpenAPI schema of the kind). */
function validate(workload: EvaluatorWorkload): void {
  expect(() => new Deployment(workload.deployment as never).validate()).not.toThrow();
  if (workload.podDisruptionBudget !== undefined) {
    expect(() => new PodDisruptionBudget(workload.podDisruptionBudget as never).validate()).not.toThrow();
  }
}

function podSpecOf(deployment: V1Deployment) {
  const spec = deployment.spec?.template.spec;
  if (spec === undefined) throw new Error('no pod spec');
  return spec;
}

function containerOf(deployment: V1Deployment) {
  const [container, ...others] = podSpecOf(deployment).containers;
  expect(others).toEqual([]);
  if (container === undefined) throw new Error('no container');
  return container;
}

function envOf(workload: EvaluatorWorkload): V1EnvVar[] {
  return containerOf(workload.deployment).env ?? [];
}

describe('evaluatorDeploymentName', () => {
  it('prefixes the pool name', () => {
    expect(evaluatorDeploymentName('tenant-a')).toBe('castellan-evaluator-tenant-a');
  });
});

describe('evaluatorWorkloadOf', () => {
  it('builds the Deployment and PodDisruptionBudget of the tenant-a example', async () => {
    const workload = evaluatorWorkloadOf(await deployed('examples/policyserver-tenant-a.yaml'), options);
    const labels = {
      'app.kubernetes.io/name': 'castellan-evaluator',
      'app.kubernetes.io/component': 'evaluator',
      'app.kubernetes.io/part-of': 'castellan',
      'castellan.dev/pool': 'tenant-a',
    };
    const selector = { 'app.kubernetes.io/name': 'castellan-evaluator', 'castellan.dev/pool': 'tenant-a' };
    expect(workload.deployment).toStrictEqual<V1Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'castellan-evaluator-tenant-a',
        namespace: 'castellan',
        labels: { ...labels, tenant: 'a' },
        annotations: { 'example.com/owner': 'tenant-a' },
        ownerReferences: [OWNER_REFERENCE],
      },
      spec: {
        replicas: 2,
        revisionHistoryLimit: 5,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: {
            labels: { ...labels, tenant: 'a' },
            annotations: { 'example.com/owner': 'tenant-a' },
          },
          spec: {
            serviceAccountName: 'castellan-evaluator',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 30,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            priorityClassName: 'tenant-a',
            imagePullSecrets: [{ name: 'tenant-a-registry' }],
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    { matchExpressions: [{ key: 'tenant', operator: 'In', values: ['a'] }] },
                  ],
                },
              },
            },
            tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'tenant-a', effect: 'NoSchedule' }],
            containers: [
              {
                name: 'evaluator',
                image: CASTELLAN_IMAGE,
                command: ['node', 'services/evaluator/dist/main.js'],
                workingDir: '/app',
                env: [
                  { name: 'CASTELLAN_POOL', value: 'tenant-a' },
                  ...natsEnv,
                  { name: 'CASTELLAN_NATS_URL', value: 'nats://castellan-nats:4222' },
                  { name: 'CASTELLAN_JETSTREAM_REPLICAS', value: '3' },
                  { name: 'CASTELLAN_WORKERS', value: '4' },
                  {
                    name: 'CASTELLAN_LOG_LEVEL',
                    valueFrom: {
                      configMapKeyRef: { name: 'tenant-a-settings', key: 'log-level', optional: true },
                    },
                  },
                ],
                resources: {
                  requests: { cpu: '500m', memory: '512Mi' },
                  limits: { cpu: '2', memory: '2Gi' },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'nats', mountPath: '/var/run/castellan/nats', readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
              {
                name: 'nats',
                secret: { secretName: 'castellan-nats-creds-evaluator-tenant-a', defaultMode: 0o444 },
              },
            ],
          },
        },
      },
    });
    expect(workload.podDisruptionBudget).toStrictEqual<V1PodDisruptionBudget>({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: {
        name: 'castellan-evaluator-tenant-a',
        namespace: 'castellan',
        labels,
        ownerReferences: [OWNER_REFERENCE],
      },
      spec: {
        minAvailable: 1,
        selector: { matchLabels: selector },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
    validate(workload);
  });

  it('builds the default pool the chart installs without a PodDisruptionBudget', async () => {
    const policyServer = await deployed('kustomize/trial/policyserver-default.yaml');
    const workload = evaluatorWorkloadOf(policyServer, { ...options, owner: { ...OWNER, name: 'default' } });
    const { deployment } = workload;
    expect(deployment.metadata?.name).toBe('castellan-evaluator-default');
    // The PolicyServer's own metadata labels are not spec.labels: they do not reach the pods.
    expect(deployment.metadata?.labels).toStrictEqual({
      'app.kubernetes.io/name': 'castellan-evaluator',
      'app.kubernetes.io/component': 'evaluator',
      'app.kubernetes.io/part-of': 'castellan',
      'castellan.dev/pool': 'default',
    });
    expect(deployment.metadata).not.toHaveProperty('annotations');
    expect(deployment.spec?.template.metadata).not.toHaveProperty('annotations');
    expect(deployment.spec?.replicas).toBe(1);
    expect(envOf(workload)).toStrictEqual([
      { name: 'CASTELLAN_POOL', value: 'default' },
      ...natsEnv,
      ...COMMON_ENV,
      { name: 'CASTELLAN_WORKERS', value: '2' },
    ]);
    const pod = podSpecOf(deployment);
    expect(pod.securityContext).toStrictEqual(policyServer.spec.securityContexts?.pod);
    expect(containerOf(deployment).securityContext).toStrictEqual(
      policyServer.spec.securityContexts?.container,
    );
    expect(containerOf(deployment).resources).toStrictEqual({
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '2', memory: '1Gi' },
    });
    for (const absent of ['imagePullSecrets', 'priorityClassName', 'affinity', 'tolerations']) {
      expect(pod).not.toHaveProperty(absent);
    }
    expect(workload).not.toHaveProperty('podDisruptionBudget');
    validate(workload);
  });

  it('gives a pool without securityContexts the restricted defaults of the default PolicyServer', async () => {
    const defaults = (await deployed('kustomize/trial/policyserver-default.yaml')).spec.securityContexts;
    const workload = evaluatorWorkloadOf(policyServer(), options);
    expect(podSpecOf(workload.deployment).securityContext).toStrictEqual(defaults?.pod);
    expect(containerOf(workload.deployment).securityContext).toStrictEqual(defaults?.container);
    validate(workload);
  });

  it('defaults each security context on its own', async () => {
    const defaults = (await deployed('kustomize/trial/policyserver-default.yaml')).spec.securityContexts;
    const pod = { runAsNonRoot: true, runAsUser: 2000, seccompProfile: { type: 'RuntimeDefault' } };
    const onlyPod = evaluatorWorkloadOf(policyServer({ securityContexts: { pod } }), options);
    expect(podSpecOf(onlyPod.deployment).securityContext).toStrictEqual(pod);
    expect(containerOf(onlyPod.deployment).securityContext).toStrictEqual(defaults?.container);
    const container = { runAsUser: 3000 };
    const onlyContainer = evaluatorWorkloadOf(policyServer({ securityContexts: { container } }), options);
    expect(podSpecOf(onlyContainer.deployment).securityContext).toStrictEqual(defaults?.pod);
    expect(containerOf(onlyContainer.deployment).securityContext).toStrictEqual(container);
  });

  it('runs the image it is given, whatever spec.image says', () => {
    const decided = `registry.local:5000/castellan@sha256:${'a'.repeat(64)}`;
    const workload = evaluatorWorkloadOf(policyServer({ image: KUBEWARDEN_IMAGE }), {
      ...options,
      image: decided,
    });
    expect(containerOf(workload.deployment).image).toBe(decided);
    validate(workload);
  });

  it('orders env as pool, common, user, keeping only the last entry of each name', () => {
    const workload = evaluatorWorkloadOf(
      policyServer({
        env: [
          { name: 'CASTELLAN_WORKERS', value: '1' },
          { name: 'CASTELLAN_NATS_URL', value: 'nats://tenant-nats:4222' },
          { name: 'CASTELLAN_WORKERS', value: '8' },
          { name: 'CASTELLAN_ROLLOUT_GRACE_MS', value: '9000' },
        ],
      }),
      options,
    );
    expect(envOf(workload)).toStrictEqual([
      { name: 'CASTELLAN_POOL', value: 'pool-x' },
      ...natsEnv,
      { name: 'CASTELLAN_JETSTREAM_REPLICAS', value: '3' },
      { name: 'CASTELLAN_LOG_LEVEL', value: 'info' },
      { name: 'CASTELLAN_NATS_URL', value: 'nats://tenant-nats:4222' },
      { name: 'CASTELLAN_WORKERS', value: '8' },
      { name: 'CASTELLAN_ROLLOUT_GRACE_MS', value: '9000' },
    ]);
  });

  it('does not let spec.env move the pool to another CASTELLAN_POOL or other NATS credentials', () => {
    const workload = evaluatorWorkloadOf(
      policyServer({
        env: [
          { name: 'CASTELLAN_POOL', value: 'default' },
          { name: 'CASTELLAN_NATS_CREDS', value: '/var/run/castellan/other/nats.creds' },
          { name: 'CASTELLAN_NATS_CA', value: '/etc/ssl/ca.crt' },
        ],
      }),
      options,
    );
    const identity = ['CASTELLAN_POOL', 'CASTELLAN_NATS_CREDS', 'CASTELLAN_NATS_CA'];
    expect(envOf(workload).filter((entry) => identity.includes(entry.name))).toStrictEqual([
      { name: 'CASTELLAN_POOL', value: 'pool-x' },
      ...natsEnv,
    ]);
  });

  it("mounts its own pool's NATS credentials Secret read-only, and no other Secret", () => {
    for (const pool of ['default', 'tenant-a']) {
      const { deployment } = evaluatorWorkloadOf(policyServer({}, pool), options);
      const secrets = (podSpecOf(deployment).volumes ?? []).filter((volume) => volume.secret);
      expect(secrets.map((volume) => volume.secret?.secretName)).toStrictEqual([
        `castellan-nats-creds-evaluator-${pool}`,
      ]);
      const mount = containerOf(deployment).volumeMounts?.find((m) => m.name === secrets[0]?.name);
      expect(mount).toStrictEqual({ name: 'nats', mountPath: '/var/run/castellan/nats', readOnly: true });
      // Every variable naming a file of the mount points into it.
      const files = (containerOf(deployment).env ?? []).filter((e) =>
        e.value?.startsWith(mount?.mountPath ?? '-'),
      );
      expect(files.map((e) => e.name)).toStrictEqual(['CASTELLAN_NATS_CREDS', 'CASTELLAN_NATS_CA']);
    }
  });

  it("lets Castellan's labels win over spec.labels and selects on the pool only", () => {
    const workload = evaluatorWorkloadOf(
      policyServer({
        labels: {
          'castellan.dev/pool': 'default',
          'app.kubernetes.io/name': 'impostor',
          'app.kubernetes.io/part-of': 'elsewhere',
          team: 'payments',
        },
      }),
      options,
    );
    const expected = {
      'app.kubernetes.io/name': 'castellan-evaluator',
      'app.kubernetes.io/component': 'evaluator',
      'app.kubernetes.io/part-of': 'castellan',
      'castellan.dev/pool': 'pool-x',
      team: 'payments',
    };
    expect(workload.deployment.metadata?.labels).toStrictEqual(expected);
    expect(workload.deployment.spec?.template.metadata?.labels).toStrictEqual(expected);
    expect(workload.deployment.spec?.selector.matchLabels).toStrictEqual({
      'app.kubernetes.io/name': 'castellan-evaluator',
      'castellan.dev/pool': 'pool-x',
    });
  });

  it('builds a PodDisruptionBudget only when minAvailable or maxUnavailable is set', () => {
    expect(evaluatorWorkloadOf(policyServer(), options)).not.toHaveProperty('podDisruptionBudget');
    const withMax = evaluatorWorkloadOf(policyServer({ replicas: 3, maxUnavailable: '34%' }), options);
    expect(withMax.podDisruptionBudget?.metadata?.name).toBe('castellan-evaluator-pool-x');
    expect(withMax.podDisruptionBudget?.spec).toStrictEqual({
      maxUnavailable: '34%',
      selector: { matchLabels: withMax.deployment.spec?.selector.matchLabels },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    validate(withMax);
    // 0 is a setting too (no voluntary disruption at all), not "unset".
    const withZero = evaluatorWorkloadOf(policyServer({ minAvailable: 0 }), options);
    expect(withZero.podDisruptionBudget?.spec?.minAvailable).toBe(0);
  });

  it('uses the reconciler service account when spec.serviceAccountName is empty', () => {
    for (const serviceAccountName of [undefined, '']) {
      const spec = serviceAccountName === undefined ? {} : { serviceAccountName };
      const workload = evaluatorWorkloadOf(policyServer(spec), options);
      expect(podSpecOf(workload.deployment).serviceAccountName).toBe('castellan-evaluator');
    }
    const own = evaluatorWorkloadOf(policyServer({ serviceAccountName: 'pool-x-evaluator' }), options);
    expect(podSpecOf(own.deployment).serviceAccountName).toBe('pool-x-evaluator');
  });

  it('gives the same objects for the same input, sharing nothing with it', async () => {
    const tenantA = await deployed('examples/policyserver-tenant-a.yaml');
    const first = evaluatorWorkloadOf(tenantA, options);
    const second = evaluatorWorkloadOf(structuredClone(tenantA), { ...options, commonEnv: [...COMMON_ENV] });
    expect(second).toStrictEqual(first);
    containerOf(first.deployment).env?.push({ name: 'MUTATED', value: '1' });
    podSpecOf(first.deployment).tolerations?.pop();
    delete first.deployment.metadata?.labels?.['castellan.dev/pool'];
    expect(evaluatorWorkloadOf(tenantA, options)).toStrictEqual(second);
    expect(tenantA).toStrictEqual(await deployed('examples/policyserver-tenant-a.yaml'));
  });

  it('leaves the Deployment unchanged when sources, verification, capabilities or ports change', async () => {
    const tenantA = await deployed('examples/policyserver-tenant-a.yaml');
    const changed: PolicyServer = {
      ...tenantA,
      metadata: { ...tenantA.metadata, generation: 7 },
      spec: {
        ...tenantA.spec,
        insecureSources: ['other.registry:5000'],
        sourceAuthorities: {},
        verificationConfig: 'other-verification',
        sigstoreTrustConfig: 'other-trust',
        namespacedPoliciesCapabilities: ['*'],
        webhookPort: 9443,
        readinessProbePort: 9081,
        metricsPort: 9090,
      },
    };
    expect(evaluatorWorkloadOf(changed, options)).toStrictEqual(evaluatorWorkloadOf(tenantA, options));
  });

  it('validates with schemas that do catch a broken Deployment and PodDisruptionBudget', () => {
    const { deployment, podDisruptionBudget } = evaluatorWorkloadOf(
      policyServer({ maxUnavailable: 1 }),
      options,
    );
    const brokenDeployment = { ...deployment, spec: { ...deployment.spec, replicas: 'two' } };
    expect(() => new Deployment(brokenDeployment as never).validate()).toThrow();
    const brokenBudget = { ...podDisruptionBudget, spec: { ...podDisruptionBudget?.spec, selector: 'pool' } };
    expect(() => new PodDisruptionBudget(brokenBudget as never).validate()).toThrow();
  });
});
