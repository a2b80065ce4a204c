import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  ClusterBusSecretName,
  NATS_CONFIG_DIR,
  credentialsSecretName,
  prepareClusterBus,
} from '@castellan/bus-auth';
import type { BusIdentity } from '@castellan/proto';
import { credsAuthenticator } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBinary } from '../harness/binaries.js';
import { freeLoopbackPort, startProcess, waitUntilReady } from '../harness/processes.js';
import type {
  Container,
  CustomResourceDefinition,
  KubeObject,
  PodSpec,
  SecurityContext,
  Workload,
} from './manifests.js';
import {
  deployDir,
  effectiveEnv,
  configMapData,
  groupOf,
  kustomize,
  named,
  readYamlDir,
  selects,
  validateBuiltIn,
  validateCustomResource,
  workloads,
} from './manifests.js';
import type { OpenApiSchema } from './openapi.js';
import { schemaAtJsonPath, schemaNodes, structuralProblems } from './openapi.js';

const GROUP = 'policies.castellan.dev';
const CASTELLAN_IMAGE = /^ghcr\.io\/castellan-dev\/castellan:/;
const SERVICES = ['gateway', 'fetcher', 'reconciler'] as const;
const NO_API_ACCESS = ['castellan-gateway', 'castellan-fetcher', 'castellan-evaluator', 'castellan-nats'];

const EXPECTED_KINDS = {
  PolicyServer: { plural: 'policyservers', shortName: 'ps', scope: 'Cluster' },
  ClusterAdmissionPolicy: { plural: 'clusteradmissionpolicies', shortName: 'cap', scope: 'Cluster' },
  AdmissionPolicy: { plural: 'admissionpolicies', shortName: 'ap', scope: 'Namespaced' },
  ClusterAdmissionPolicyGroup: {
    plural: 'clusteradmissionpolicygroups',
    shortName: 'capg',
    scope: 'Cluster',
  },
  AdmissionPolicyGroup: { plural: 'admissionpolicygroups', shortName: 'apg', scope: 'Namespaced' },
} as const;

// Where a schema may keep fields it does not know: policy settings and core/v1 types passed through.
const FREE_FORM = new Set([
  'spec.settings',
  'spec.policies[*].settings',
  'spec.env[].valueFrom',
  'spec.affinity.nodeAffinity',
  'spec.affinity.podAffinity',
  'spec.affinity.podAntiAffinity',
  'spec.securityContexts.container',
  'spec.securityContexts.pod',
]);

const BUILT_IN_GROUPS = new Set([
  '',
  'apps',
  'policy',
  'rbac.authorization.k8s.io',
  'apiextensions.k8s.io',
  'networking.k8s.io',
]);

let crds: CustomResourceDefinition[];

function schemaOf(kind: keyof typeof EXPECTED_KINDS): OpenApiSchema {
  const crd = crds.find((c) => c.spec.names.kind === kind);
  if (!crd) throw new Error(`no CRD for ${kind}`);
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}

function specOf(kind: keyof typeof EXPECTED_KINDS): Record<string, OpenApiSchema> {
  return schemaOf(kind).properties?.spec?.properties ?? {};
}

function withoutRules(schema: OpenApiSchema | undefined): unknown {
  return JSON.parse(
    JSON.stringify(schema ?? null, (k, v: unknown) => (k === 'x-kubernetes-validations' ? undefined : v)),
  );
}

beforeAll(async () => {
  const files = await readYamlDir(join(deployDir, 'crds'));
  crds = files.flatMap((f) => f.objects) as CustomResourceDefinition[];
});

describe('deploy/crds', () => {
  it('holds one CRD per kind, group policies.castellan.dev, v1 served and stored', async () => {
    const files = await readYamlDir(join(deployDir, 'crds'));
    expect(files.every((f) => f.objects.length === 1)).toBe(true);
    expect(crds.map((c) => c.spec.names.kind).sort()).toEqual(Object.keys(EXPECTED_KINDS).sort());
    for (const crd of crds) {
      const expected = EXPECTED_KINDS[crd.spec.names.kind as keyof typeof EXPECTED_KINDS];
      expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
      expect(crd.metadata.name).toBe(`${expected.plural}.${GROUP}`);
      expect(crd.spec).toMatchObject({ group: GROUP, scope: expected.scope });
      expect(crd.spec.names).toMatchObject({ plural: expected.plural, shortNames: [expected.shortName] });
      expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1', true, true]]);
      await validateBuiltIn(crd);
    }
  });

  it('has structural schemas with valid defaults', () => {
    for (const crd of crds) {
      expect(structuralProblems(crd.spec.versions[0]!.schema.openAPIV3Schema), crd.metadata.name).toEqual([]);
    }
  });

  it('keeps unknown fields only in settings and passed-through core types', () => {
    for (const crd of crds) {
      const preserving = [...schemaNodes(crd.spec.versions[0]!.schema.openAPIV3Schema)]
        .filter(([, node]) => node['x-kubernetes-preserve-unknown-fields'])
        .map(([path]) => path);
      expect(
        preserving.filter((path) => !FREE_FORM.has(path)),
        crd.metadata.name,
      ).toEqual([]);
    }
  });

  it('has a status subresource and printer columns that exist in the schema', () => {
    for (const crd of crds) {
      const version = crd.spec.versions[0]!;
      expect(version.subresources?.status, crd.metadata.name).toEqual({});
      const columns = version.additionalPrinterColumns ?? [];
      expect(columns.map((c) => c.name)).toContain('Age');
      for (const column of columns) {
        if (column.jsonPath.startsWith('.metadata.')) continue;
        expect(
          schemaAtJsonPath(version.schema.openAPIV3Schema, column.jsonPath),
          `${crd.metadata.name} ${column.name}`,
        ).toBeDefined();
      }
    }
    const columnsOf = (kind: string) =>
      crds
        .find((c) => c.spec.names.kind === kind)!
        .spec.versions[0]!.additionalPrinterColumns!.map((c) => c.name);
    expect(columnsOf('PolicyServer')).toEqual(['Replicas', 'Image', 'Age']);
    expect(columnsOf('ClusterAdmissionPolicy').slice(0, 7)).toEqual([
      'Policy Server',
      'Mutating',
      'BackgroundAudit',
      'Mode',
      'Observed mode',
      'Status',
      'Age',
    ]);
  });

  it('CEL rules only name fields of the schema node they sit on', () => {
    for (const crd of crds) {
      for (const [path, node] of schemaNodes(crd.spec.versions[0]!.schema.openAPIV3Schema)) {
        for (const { rule } of node['x-kubernetes-validations'] ?? []) {
          for (const [, field] of rule.matchAll(/\bself\.([A-Za-z_]\w*)\b(?!\s*\()/g)) {
            const known = field === 'metadata' || Object.hasOwn(node.properties ?? {}, field!);
            expect(known, `${crd.metadata.name} ${path || '<root>'}: ${rule}`).toBe(true);
          }
        }
      }
    }
  });

  it('gives the four policy kinds the same schema for the fields they share', () => {
    const shared = [
      'policyServer',
      'mode',
      'rules',
      'failurePolicy',
      'backgroundAudit',
      'matchPolicy',
      'matchConditions',
      'objectSelector',
      'sideEffects',
      'timeoutSeconds',
    ];
    const kinds = [
      'ClusterAdmissionPolicy',
      'AdmissionPolicy',
      'ClusterAdmissionPolicyGroup',
      'AdmissionPolicyGroup',
    ] as const;
    for (const field of shared) {
      const reference = withoutRules(specOf('ClusterAdmissionPolicy')[field]);
      expect(reference, field).not.toBeNull();
      for (const kind of kinds)
        expect(withoutRules(specOf(kind)[field]), `${kind}.${field}`).toEqual(reference);
    }
    const clusterOnly = ['namespaceSelector', 'allowInsideAdmissionControllerNamespace'];
    for (const field of clusterOnly) {
      expect(specOf('ClusterAdmissionPolicyGroup')[field]).toEqual(specOf('ClusterAdmissionPolicy')[field]);
      expect(specOf('AdmissionPolicy')[field]).toBeUndefined();
      expect(specOf('AdmissionPolicyGroup')[field]).toBeUndefined();
    }
    const member = specOf('ClusterAdmissionPolicyGroup').policies?.additionalProperties as OpenApiSchema;
    for (const field of ['module', 'settings', 'timeoutEvalSeconds', 'contextAwareResources']) {
      expect(member.properties?.[field], `member ${field}`).toEqual(specOf('ClusterAdmissionPolicy')[field]);
    }
    // Groups are validating only.
    expect(specOf('ClusterAdmissionPolicyGroup').mutating).toBeUndefined();
    expect(specOf('AdmissionPolicyGroup').timeoutEvalSeconds).toBeUndefined();
  });

  it('keeps every PolicyServer field of Kubewarden', () => {
    expect(Object.keys(specOf('PolicyServer')).sort()).toEqual(
      [
        'image',
        'replicas',
        'minAvailable',
        'maxUnavailable',
        'annotations',
        'labels',
        'env',
        'serviceAccountName',
        'imagePullSecret',
        'insecureSources',
        'sourceAuthorities',
        'verificationConfig',
        'sigstoreTrustConfig',
        'securityContexts',
        'affinity',
        'limits',
        'requests',
        'tolerations',
        'priorityClassName',
        'namespacedPoliciesCapabilities',
        'webhookPort',
        'readinessProbePort',
        'metricsPort',
      ].sort(),
    );
  });
});

function podSecurity(pod: PodSpec, container: SecurityContext | undefined): string[] {
  const problems: string[] = [];
  const effective = { ...pod.securityContext, ...container };
  if (effective.runAsNonRoot !== true) problems.push('runAsNonRoot');
  if (container?.readOnlyRootFilesystem !== true) problems.push('readOnlyRootFilesystem');
  if (container?.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation');
  if (!container?.capabilities?.drop?.includes('ALL')) problems.push('capabilities.drop ALL');
  if (container?.capabilities?.add?.length) problems.push('capabilities.add');
  if (effective.seccompProfile?.type !== 'RuntimeDefault') problems.push('seccompProfile RuntimeDefault');
  return problems;
}

function castellanContainers(objects: readonly KubeObject[]): [Workload, Container][] {
  return workloads(objects).flatMap((w) =>
    w.spec.template.spec.containers
      .filter((c) => CASTELLAN_IMAGE.test(c.image))
      .map((c): [Workload, Container] => [w, c]),
  );
}

/** The identity each Castellan Deployment of the manifests connects to NATS as. */
const IDENTITIES: Record<string, BusIdentity> = {
  'castellan-gateway': { role: 'gateway' },
  'castellan-fetcher': { role: 'fetcher' },
  'castellan-reconciler': { role: 'control' },
};

/** A NATS pod's configuration directory: nats.conf next to the files of the Secret `castellan bus-secrets` makes. */
async function natsConfigDir(config: string, natsReplicas: number) {
  const dir = await mkdtemp(join(tmpdir(), 'castellan-deploy-'));
  const secrets = await prepareClusterBus({
    namespace: 'castellan',
    natsService: 'castellan-nats',
    natsReplicas,
    configDir: dir,
  });
  const server = secrets.find((secret) => secret.name === ClusterBusSecretName.Server);
  for (const [key, text] of Object.entries(server?.data ?? {})) await writeFile(join(dir, key), text);
  await writeFile(join(dir, 'nats.conf'), config);
  return { dir, secrets, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function natsConfigProblems(config: string, natsReplicas: number): Promise<string> {
  const natsServer = await requireBinary('nats-server');
  const { dir, remove } = await natsConfigDir(config, natsReplicas);
  try {
    const { stdout, stderr } = await promisify(execFile)(natsServer, ['-c', join(dir, 'nats.conf'), '-t'], {
      env: { ...process.env, SERVER_NAME: 'castellan-nats-0' },
    });
    return `${stdout}${stderr}`;
  } finally {
    await remove();
  }
}

/** The names of the Secrets a pod mounts, projected ones included. */
function mountedSecrets(pod: PodSpec): string[] {
  return (pod.volumes ?? []).flatMap((volume) => [
    ...(volume.secret ? [volume.secret.secretName] : []),
    ...(volume.projected?.sources ?? []).flatMap((source) => (source.secret ? [source.secret.name] : [])),
  ]);
}

describe.each([
  { profile: 'trial', natsReplicas: 1, jetstreamReplicas: '1' },
  { profile: 'production', natsReplicas: 3, jetstreamReplicas: '3' },
])('deploy/kustomize/$profile', ({ profile, natsReplicas, jetstreamReplicas }) => {
  let objects: KubeObject[];

  beforeAll(async () => {
    objects = await kustomize(join(deployDir, 'kustomize', profile));
  });

  it('renders valid built-in objects (kubernetes-models) and custom resources (CRD schemas)', async () => {
    const rendered = objects.filter(
      (o) => o.kind === 'CustomResourceDefinition',
    ) as CustomResourceDefinition[];
    expect(rendered.map((c) => c.metadata.name).sort()).toEqual(crds.map((c) => c.metadata.name).sort());
    for (const object of objects) {
      const group = groupOf(object.apiVersion);
      if (group === GROUP) {
        expect(
          validateCustomResource(rendered, object).errors,
          `${object.kind} ${object.metadata.name}`,
        ).toEqual([]);
      } else {
        expect(BUILT_IN_GROUPS.has(group), `${object.apiVersion} ${object.kind}`).toBe(true);
        await validateBuiltIn(object);
      }
    }
  });

  it('puts namespaced objects in castellan and none on cluster-scoped ones', () => {
    const clusterScoped = new Set([
      'Namespace',
      'CustomResourceDefinition',
      'ClusterRole',
      'ClusterRoleBinding',
      'PolicyServer',
    ]);
    for (const object of objects) {
      const expected = clusterScoped.has(object.kind) ? undefined : 'castellan';
      expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe(expected);
    }
  });

  it('runs every container non-root, read-only, without capabilities, with resources and labels', () => {
    const all = workloads(objects);
    expect(all.map((w) => w.metadata.name).sort()).toEqual([
      'castellan-fetcher',
      'castellan-gateway',
      'castellan-nats',
      'castellan-reconciler',
    ]);
    for (const workload of all) {
      const { spec, metadata } = workload.spec.template;
      const component = workload.metadata.name.replace('castellan-', '');
      expect(metadata.labels).toEqual({
        'app.kubernetes.io/name': workload.metadata.name,
        'app.kubernetes.io/component': component,
        'app.kubernetes.io/part-of': 'castellan',
      });
      expect(selects(workload.spec.selector, metadata.labels)).toBe(true);
      for (const container of spec.containers) {
        const where = `${workload.metadata.name}/${container.name}`;
        expect(podSecurity(spec, container.securityContext), where).toEqual([]);
        for (const kind of ['requests', 'limits'] as const) {
          expect(Object.keys(container.resources?.[kind] ?? {}).sort(), `${where} ${kind}`).toEqual([
            'cpu',
            'memory',
          ]);
        }
      }
    }
  });

  it('starts each service from the Castellan image, with one image everywhere', () => {
    const containers = castellanContainers(objects);
    expect(containers.map(([, c]) => c.command)).toEqual(
      expect.arrayContaining(SERVICES.map((s) => ['node', `services/${s}/dist/main.js`])),
    );
    const images = new Set(containers.map(([, c]) => c.image));
    expect(images.size).toBe(1);
    const [image] = images;
    const policyServer = named<KubeObject & { spec: { image: string } }>(objects, 'PolicyServer', 'default');
    expect(policyServer.spec.image).toBe(image);
    const reconciler = castellanContainers(objects).find(
      ([w]) => w.metadata.name === 'castellan-reconciler',
    )![1];
    expect(effectiveEnv(objects, reconciler).CASTELLAN_EVALUATOR_IMAGE).toBe(image);
  });

  it(`sets CASTELLAN_JETSTREAM_REPLICAS=${jetstreamReplicas} and the NATS Service on every Castellan container`, () => {
    for (const [workload, container] of castellanContainers(objects)) {
      const env = effectiveEnv(objects, container);
      expect(env.CASTELLAN_JETSTREAM_REPLICAS, workload.metadata.name).toBe(jetstreamReplicas);
      expect(env.CASTELLAN_NATS_URL, workload.metadata.name).toBe('tls://castellan-nats:4222');
    }
    // The reconciler hands its own values to the evaluators; the pool must not override them.
    const policyServer = named<KubeObject & { spec: { env?: { name: string }[] } }>(
      objects,
      'PolicyServer',
      'default',
    );
    expect((policyServer.spec.env ?? []).map((e) => e.name)).not.toContain('CASTELLAN_JETSTREAM_REPLICAS');
  });

  it('gives the gateway, evaluator, fetcher and NATS no Kubernetes API access', () => {
    const bindings = objects.filter(
      (o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding',
    ) as (KubeObject & {
      subjects?: { kind: string; name: string }[];
    })[];
    const bound = bindings.flatMap((b) =>
      (b.subjects ?? []).filter((s) => s.kind === 'ServiceAccount').map((s) => s.name),
    );
    expect(bound.filter((name) => NO_API_ACCESS.includes(name))).toEqual([]);
    expect([...new Set(bound)]).toEqual(['castellan-reconciler']);
    for (const name of NO_API_ACCESS) {
      expect(named(objects, 'ServiceAccount', name).automountServiceAccountToken, name).toBe(false);
    }
    for (const workload of workloads(objects)) {
      const pod = workload.spec.template.spec;
      if (pod.serviceAccountName !== 'castellan-reconciler') {
        expect(pod.automountServiceAccountToken, workload.metadata.name).toBe(false);
      }
    }
  });

  it('grants the reconciler what it manages, in its namespace where it can', () => {
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
    const rulesOf = (kind: string) =>
      named<KubeObject & { rules: Rule[] }>(objects, kind, 'castellan-reconciler').rules;
    const allows = (rules: Rule[], group: string, resource: string, verb: string) =>
      rules.some(
        (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
      );
    const cluster = rulesOf('ClusterRole');
    const namespaced = rulesOf('Role');
    for (const { plural } of Object.values(EXPECTED_KINDS)) {
      expect(allows(cluster, GROUP, plural, 'watch'), plural).toBe(true);
      expect(allows(cluster, GROUP, `${plural}/status`, 'patch'), plural).toBe(true);
      expect(allows(cluster, GROUP, `${plural}/finalizers`, 'update'), plural).toBe(true);
    }
    for (const resource of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations']) {
      expect(allows(cluster, 'admissionregistration.k8s.io', resource, 'delete'), resource).toBe(true);
    }
    expect(allows(cluster, '', 'events', 'create')).toBe(true);
    expect(allows(namespaced, 'apps', 'deployments', 'create')).toBe(true);
    expect(allows(namespaced, 'policy', 'poddisruptionbudgets', 'create')).toBe(true);
    expect(allows(namespaced, '', 'secrets', 'create')).toBe(true);
    // Each pool's NATS credentials are renewed in place; their deletion is garbage collection's.
    expect(allows(namespaced, '', 'secrets', 'update')).toBe(true);
    // Delete only for the two certificate Secrets it recreates when their type is wrong.
    const deletable = namespaced.filter(
      (r) => r.apiGroups.includes('') && r.resources.includes('secrets') && r.verbs.includes('delete'),
    );
    expect(deletable.map((r) => r.resourceNames)).toEqual([['castellan-ca', 'castellan-gateway-tls']]);
    expect(allows(namespaced, 'coordination.k8s.io', 'leases', 'update')).toBe(true);
    // Nothing cluster-wide that belongs in the namespace.
    for (const resource of ['deployments', 'secrets', 'poddisruptionbudgets', 'leases', 'configmaps']) {
      expect(
        cluster.some((r) => r.resources.includes(resource)),
        resource,
      ).toBe(false);
    }
  });

  it('exposes the gateway on 443 with the reconciler-written certificate and /readiness on 8081', () => {
    const gateway = named<Workload>(objects, 'Deployment', 'castellan-gateway');
    const pod = gateway.spec.template.spec;
    const container = pod.containers[0]!;
    const env = effectiveEnv(objects, container);
    expect(container.ports).toEqual([
      { name: 'https', containerPort: 8443 },
      { name: 'metrics', containerPort: 8081 },
    ]);
    expect(env).toMatchObject({ CASTELLAN_GATEWAY_PORT: '8443', CASTELLAN_READINESS_PORT: '8081' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readiness', port: 'metrics' });
    const tls = pod.volumes?.find((v) => v.secret?.secretName === 'castellan-gateway-tls');
    const mount = container.volumeMounts?.find((m) => m.name === tls?.name);
    expect(mount?.mountPath).toBe(dirname(env.CASTELLAN_TLS_CERT_FILE ?? ''));
    expect(dirname(env.CASTELLAN_TLS_KEY_FILE ?? '')).toBe(mount?.mountPath);
    const service = named<KubeObject & { spec: { selector: Record<string, string>; ports: object[] } }>(
      objects,
      'Service',
      'castellan-gateway',
    );
    expect(service.spec.ports).toEqual([
      { name: 'https', port: 443, targetPort: 'https' },
      { name: 'metrics', port: 8081, targetPort: 'metrics' },
    ]);
    expect(selects({ matchLabels: service.spec.selector }, gateway.spec.template.metadata.labels)).toBe(true);
  });

  it('configures NATS with JetStream on a volume and max_payload 8MB, accepted by nats-server', async () => {
    const nats = named<Workload & { spec: { volumeClaimTemplates?: object[] } }>(
      objects,
      'StatefulSet',
      'castellan-nats',
    );
    expect(nats.spec.replicas).toBe(natsReplicas);
    expect(nats.spec.volumeClaimTemplates).toHaveLength(1);
    const config = configMapData(objects, 'castellan-nats-config')['nats.conf'] ?? '';
    expect(config).toMatch(/^max_payload: 8MB$/m);
    expect(config).toMatch(/^jetstream \{[^}]*store_dir: \/data/m);
    expect(await natsConfigProblems(config, natsReplicas)).toMatch(/is valid/);
    const headless = named<KubeObject & { spec: { clusterIP: string; publishNotReadyAddresses: boolean } }>(
      objects,
      'Service',
      nats.spec.serviceName ?? '',
    );
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    const routes = [...config.matchAll(/nats:\/\/(castellan-nats-\d)\.([\w-]+):6222/g)];
    if (natsReplicas === 1) {
      expect(config).not.toMatch(/cluster \{/);
    } else {
      // Routes are mutual TLS: the cluster block includes the route tls block of the Secret.
      expect(config).toMatch(/^cluster \{[^}]*^ {2}include routes-tls\.conf$[^}]*^\}/m);
      expect(nats.spec.podManagementPolicy).toBe('Parallel');
      expect(routes.map((r) => r[1])).toEqual(['castellan-nats-0', 'castellan-nats-1', 'castellan-nats-2']);
      expect(new Set(routes.map((r) => r[2]))).toEqual(new Set([headless.metadata.name]));
    }
  });

  it('locks every NATS configuration: it includes the operator lock of the mounted Secret, and nothing opens it', () => {
    const nats = named<Workload>(objects, 'StatefulSet', 'castellan-nats');
    const pod = nats.spec.template.spec;
    const container = pod.containers[0]!;
    const config = configMapData(objects, 'castellan-nats-config')['nats.conf'] ?? '';
    const settings = config.replace(/#.*$/gm, '');
    expect(settings).toMatch(/^include auth\.conf$/m);
    // Users, tokens, accounts or an anonymous user of its own would bypass the operator's credentials.
    expect(settings).not.toMatch(/^\s*(authorization|no_auth_user|accounts|operator|resolver|tls)\s*[:={ ]/m);
    // nats.conf and the Secret's files share one directory: includes are relative to nats.conf.
    const configPath = container.args?.[container.args.indexOf('--config') + 1] ?? '';
    const volume = pod.volumes?.find((v) => v.projected);
    expect(volume?.projected?.sources).toEqual([
      { configMap: { name: 'castellan-nats-config' } },
      { secret: { name: ClusterBusSecretName.Server } },
    ]);
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount?.mountPath).toBe(dirname(configPath));
    expect(mount?.mountPath).toBe(NATS_CONFIG_DIR);
    expect(mountedSecrets(pod)).toEqual([ClusterBusSecretName.Server]);
  });

  it('gives gateway, fetcher and reconciler each its own NATS credentials, and no one any other', () => {
    const common = configMapData(objects, 'castellan-common');
    expect(Object.keys(common).filter((name) => /NATS_(CREDS|CA|AUTHORITY)/.test(name))).toEqual([]);
    for (const [workload, container] of castellanContainers(objects)) {
      const name = workload.metadata.name;
      const identity = IDENTITIES[name];
      if (!identity) throw new Error(`no NATS identity expected for ${name}`);
      const pod = workload.spec.template.spec;
      const own = credentialsSecretName(identity);
      const authority = name === 'castellan-reconciler' ? [ClusterBusSecretName.Authority] : [];
      expect(
        mountedSecrets(pod).filter((secret) => secret.startsWith('castellan-nats-')),
        name,
      ).toEqual([own, ...authority]);
      const mountOf = (secret: string) => {
        const volume = pod.volumes?.find((v) => v.secret?.secretName === secret);
        return container.volumeMounts?.find((m) => m.name === volume?.name);
      };
      const env = effectiveEnv(objects, container);
      expect(mountOf(own)?.readOnly, name).toBe(true);
      expect(env.CASTELLAN_NATS_CREDS, name).toBe(`${mountOf(own)?.mountPath}/nats.creds`);
      expect(env.CASTELLAN_NATS_CA, name).toBe(`${mountOf(own)?.mountPath}/ca.crt`);
      if (authority.length > 0) {
        expect(env.CASTELLAN_NATS_AUTHORITY_FILE).toBe(
          `${mountOf(ClusterBusSecretName.Authority)?.mountPath}/authority.json`,
        );
      } else {
        expect(env.CASTELLAN_NATS_AUTHORITY_FILE, name).toBeUndefined();
      }
    }
    // The evaluators' credentials are the reconciler's to mint, one Secret per pool: the default
    // pool's manifest hands its pods no other NATS identity.
    const policyServer = named<KubeObject & { spec: { env?: { name: string }[] } }>(
      objects,
      'PolicyServer',
      'default',
    );
    expect(
      (policyServer.spec.env ?? []).map((e) => e.name).filter((n) => n.startsWith('CASTELLAN_NATS')),
    ).toEqual([]);
  });

  it('lets only Castellan pods reach the NATS client port', () => {
    const policy = named<
      KubeObject & {
        spec: { podSelector: { matchLabels: object }; ingress: { from: object[]; ports: object[] }[] };
      }
    >(objects, 'NetworkPolicy', 'castellan-nats');
    expect(policy.spec.ingress[0]).toEqual({
      from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'castellan' } } }],
      ports: [{ port: 4222, protocol: 'TCP' }],
    });
  });

  it('creates the default PolicyServer with a restricted security context', () => {
    const policyServer = named<
      KubeObject & {
        metadata: { namespace?: string };
        spec: { replicas: number; securityContexts: { pod: SecurityContext; container: SecurityContext } };
      }
    >(objects, 'PolicyServer', 'default');
    const { pod, container } = policyServer.spec.securityContexts;
    expect(podSecurity({ containers: [], securityContext: pod }, container)).toEqual([]);
    expect(policyServer.spec.replicas).toBe(natsReplicas === 1 ? 1 : 3);
  });

  if (profile === 'trial') {
    it('serves with this configuration only TLS clients holding Castellan credentials (nats-server)', async () => {
      const natsServer = await requireBinary('nats-server');
      const store = await mkdtemp(join(tmpdir(), 'castellan-deploy-store-'));
      // The pod's volume and ports are the test's own; everything else is the rendered nats.conf.
      const config = (configMapData(objects, 'castellan-nats-config')['nats.conf'] ?? '').replace(
        'store_dir: /data',
        `store_dir: ${JSON.stringify(store)}`,
      );
      const { dir, secrets, remove } = await natsConfigDir(config, natsReplicas);
      const port = await freeLoopbackPort();
      const monitor = await freeLoopbackPort();
      const server = startProcess(
        natsServer,
        ['-c', join(dir, 'nats.conf'), '-a', '127.0.0.1', '-p', `${port}`, '-m', `${monitor}`],
        { SERVER_NAME: 'castellan-nats-0' },
      );
      try {
        await waitUntilReady(server, 'nats-server', () =>
          Promise.resolve(/Server is ready/.test(server.output())),
        );
        const options = {
          servers: `127.0.0.1:${port}`,
          tls: { caFile: join(dir, 'ca.crt') },
          reconnect: false,
        };
        await expect(connect(options)).rejects.toThrow(/authorization/i);
        const gateway = secrets.find((s) => s.name === credentialsSecretName({ role: 'gateway' }));
        const nc = await connect({
          ...options,
          authenticator: credsAuthenticator(new TextEncoder().encode(gateway?.data['nats.creds'])),
          inboxPrefix: '_INBOX.gateway',
        });
        await nc.flush();
        await nc.close();
      } finally {
        await server.stop();
        await remove();
        await rm(store, { recursive: true, force: true });
      }
    });

    it('runs one replica of everything and no PodDisruptionBudget', () => {
      for (const workload of workloads(objects))
        expect(workload.spec.replicas, workload.metadata.name).toBe(1);
      expect(objects.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
    });
  } else {
    it('runs 2+ replicas of every service, spread over nodes and zones, each with a PodDisruptionBudget', () => {
      const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget') as (KubeObject & {
        spec: { selector: { matchLabels: Record<string, string> }; maxUnavailable?: number };
      })[];
      for (const workload of workloads(objects)) {
        const name = workload.metadata.name;
        const { labels } = workload.spec.template.metadata;
        const pod = workload.spec.template.spec;
        expect(workload.spec.replicas, name).toBeGreaterThanOrEqual(2);
        const budget = budgets.filter((b) => selects(b.spec.selector, labels));
        expect(
          budget.map((b) => b.spec.maxUnavailable),
          name,
        ).toEqual([1]);
        const antiAffinity = pod.affinity?.podAntiAffinity;
        const terms = [
          ...(antiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
          ...(antiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map(
            (p) => p.podAffinityTerm,
          ),
        ];
        expect(
          terms.some((t) => t.topologyKey === 'kubernetes.io/hostname' && selects(t.labelSelector, labels)),
          name,
        ).toBe(true);
        expect(
          (pod.topologySpreadConstraints ?? []).some(
            (t) => t.topologyKey === 'topology.kubernetes.io/zone' && selects(t.labelSelector, labels),
          ),
          name,
        ).toBe(true);
      }
      const nats = named<Workload>(objects, 'StatefulSet', 'castellan-nats').spec.template.spec;
      expect(
        nats.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey,
      ).toBe('kubernetes.io/hostname');
    });

    it('elects a leader among reconcilers and gives the default pool a disruption budget', () => {
      const reconciler = castellanContainers(objects).find(
        ([w]) => w.metadata.name === 'castellan-reconciler',
      )![1];
      expect(effectiveEnv(objects, reconciler).CASTELLAN_LEADER_ELECT).toBe('true');
      const policyServer = named<KubeObject & { spec: { maxUnavailable?: number; minAvailable?: number } }>(
        objects,
        'PolicyServer',
        'default',
      );
      expect(policyServer.spec.maxUnavailable ?? policyServer.spec.minAvailable).toBeDefined();
    });
  }
});

describe('deploy/examples', () => {
  let examples: { file: string; objects: KubeObject[] }[];

  beforeAll(async () => {
    examples = await readYamlDir(join(deployDir, 'examples'));
  });

  const example = (file: string): KubeObject => {
    const found = examples.find((e) => e.file === file)?.objects[0];
    if (!found) throw new Error(`no example ${file}`);
    return structuredClone(found);
  };

  const errorsOf = (object: KubeObject) => validateCustomResource(crds, object).errors;

  it('covers every kind, and every example is valid', () => {
    const kinds = new Set(examples.flatMap((e) => e.objects.map((o) => o.kind)));
    expect([...kinds].sort()).toEqual(Object.keys(EXPECTED_KINDS).sort());
    for (const { file, objects } of examples) {
      for (const object of objects) expect(errorsOf(object), file).toEqual([]);
    }
  });

  it('fills in the Kubewarden defaults', () => {
    const { value } = validateCustomResource(crds, example('clusteradmissionpolicy-psp-capabilities.yaml'));
    expect(value.spec).toMatchObject({
      policyServer: 'default',
      mode: 'protect',
      timeoutSeconds: 10,
      backgroundAudit: true,
      allowInsideAdmissionControllerNamespace: false,
    });
    const group = validateCustomResource(
      crds,
      example('clusteradmissionpolicygroup-signed-images.yaml'),
    ).value;
    expect(group.spec).toMatchObject({ policyServer: 'default', mode: 'protect', timeoutSeconds: 10 });
    const pool = validateCustomResource(crds, example('policyserver-tenant-a.yaml')).value;
    expect(pool.spec).toMatchObject({ webhookPort: 8443, readinessProbePort: 8081 });
  });

  it('accepts a Kubewarden manifest with only apiVersion changed', () => {
    const kubewarden = { ...example('clusteradmissionpolicy-psp-capabilities.yaml') };
    expect(errorsOf({ ...kubewarden, apiVersion: 'policies.kubewarden.io/v1' })).toEqual([
      'no CRD serves policies.kubewarden.io/v1 ClusterAdmissionPolicy',
    ]);
    expect(errorsOf({ ...kubewarden, apiVersion: `${GROUP}/v1` })).toEqual([]);
  });

  const invalid: [string, string, (o: KubeObject & { spec: Record<string, unknown> }) => void, string][] = [
    [
      'a policy without module',
      'clusteradmissionpolicy-psp-capabilities.yaml',
      (o) => delete o.spec.module,
      'spec: module is required',
    ],
    [
      'timeoutSeconds 40',
      'admissionpolicy-privileged-pods.yaml',
      (o) => (o.spec.timeoutSeconds = 40),
      'spec.timeoutSeconds: must be <= 30',
    ],
    [
      'mode "audit"',
      'clusteradmissionpolicy-psp-capabilities.yaml',
      (o) => (o.spec.mode = 'audit'),
      'spec.mode: "audit" is not one of ["protect","monitor"]',
    ],
    [
      'a policy without mutating',
      'admissionpolicy-privileged-pods.yaml',
      (o) => delete o.spec.mutating,
      'spec: mutating is required',
    ],
    [
      'no rules',
      'admissionpolicy-privileged-pods.yaml',
      (o) => (o.spec.rules = []),
      'spec.rules: must have at least 1 items',
    ],
    [
      'an empty resource in a rule',
      'clusteradmissionpolicy-psp-capabilities.yaml',
      (o) =>
        (o.spec.rules = [{ apiGroups: [''], apiVersions: ['v1'], resources: [''], operations: ['CREATE'] }]),
      'spec.rules[0].resources[0]: must be at least 1 characters',
    ],
    [
      'an unknown operation',
      'clusteradmissionpolicy-psp-capabilities.yaml',
      (o) =>
        (o.spec.rules = [
          { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['PATCH'] },
        ]),
      'spec.rules[0].operations[0]: "PATCH" is not one of ["*","CREATE","UPDATE","DELETE","CONNECT"]',
    ],
    [
      'a misspelt field',
      'clusteradmissionpolicy-psp-capabilities.yaml',
      (o) => (o.spec.backgroundAudits = false),
      'spec.backgroundAudits: unknown field',
    ],
    [
      'namespaceSelector on an AdmissionPolicy',
      'admissionpolicy-privileged-pods.yaml',
      (o) => (o.spec.namespaceSelector = {}),
      'spec.namespaceSelector: unknown field',
    ],
    [
      'duplicate matchCondition names',
      'clusteradmissionpolicy-safe-labels.yaml',
      (o) => (o.spec.matchConditions = [1, 2].map(() => ({ name: 'same', expression: 'true' }))),
      'spec.matchConditions: duplicate entry ["same"]',
    ],
    [
      'a group without message',
      'admissionpolicygroup-trusted-images.yaml',
      (o) => delete o.spec.message,
      'spec: message is required',
    ],
    [
      'a group without members',
      'clusteradmissionpolicygroup-signed-images.yaml',
      (o) => (o.spec.policies = {}),
      'spec.policies: must have at least 1 properties',
    ],
    [
      'a member timeoutEvalSeconds of 31',
      'admissionpolicygroup-trusted-images.yaml',
      (o) =>
        ((o.spec.policies as Record<string, Record<string, unknown>>).no_latest!.timeoutEvalSeconds = 31),
      'spec.policies.no_latest.timeoutEvalSeconds: must be <= 30',
    ],
    [
      'a PolicyServer without image',
      'policyserver-tenant-a.yaml',
      (o) => delete o.spec.image,
      'spec: image is required',
    ],
    [
      'a PolicyServer minAvailable that is neither a number nor a percentage',
      'policyserver-tenant-a.yaml',
      (o) => (o.spec.minAvailable = 'half'),
      'spec.minAvailable: "half" does not match ^[0-9]+%$',
    ],
    [
      'a negative memory request',
      'policyserver-tenant-a.yaml',
      (o) => (o.spec.requests = { memory: '-1Gi' }),
      'spec.requests.memory: "-1Gi" does not match',
    ],
    [
      'an unknown host capability',
      'policyserver-tenant-a.yaml',
      (o) => (o.spec.namespacedPoliciesCapabilities = ['oci/v1']),
      'spec.namespacedPoliciesCapabilities[0]: "oci/v1" does not match',
    ],
    [
      'a namespace on a PolicyServer',
      'policyserver-tenant-a.yaml',
      (o) => (o.metadata.namespace = 'castellan'),
      'metadata.namespace set on a cluster-scoped kind',
    ],
  ];

  it.each(invalid)('rejects %s', (_, file, mutate, expected) => {
    const object = example(file) as KubeObject & { spec: Record<string, unknown> };
    mutate(object);
    const errors = errorsOf(object);
    expect(
      errors.some((e) => e.startsWith(expected)),
      `${errors.join('\n')}\nexpected: ${expected}`,
    ).toBe(true);
  });
});
