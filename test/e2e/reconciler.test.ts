// The reconciler end to end (in-memory Kubernetes API fake): the real reconciler, fetcher, gateway
// and evaluator binaries on a real, locked nats-server and docker-registry. Kubewarden manifests
// with only apiVersion changed go in; webhooks, certificates, each pool's NATS credentials and
// evaluator pods (which read those credentials from their Secret volume) come out, and the webhook
// the reconciler registers answers over TLS with the caBundle it wrote.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ModuleDistributionClient } from '@castellan/oci';
import { Bucket, policyKey } from '@castellan/proto';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { decode } from '@nats-io/jwt';
import type { User } from '@nats-io/jwt';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mountSecret, startFakeKubelet } from '../harness/kubelet.js';
import type { FakeKubelet } from '../harness/kubelet.js';
import { startKubeApi } from '../harness/kube-api/index.js';
import type { KubeApi, StoredObject } from '../harness/kube-api/index.js';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';
import { freeLoopbackPort, startProcess, waitUntilReady } from '../harness/processes.js';
import type { ServerProcess } from '../harness/processes.js';
import { startRegistry } from '../harness/registry.js';
import type { TestRegistry } from '../harness/registry.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const NAMESPACE = 'castellan';
const GROUP = 'policies.castellan.dev/v1';

/** A Kubewarden quick-start policy, apiVersion changed, module in the test registry. */
function privilegedPodsPolicy(module: string): KubernetesObject {
  return parse(`
apiVersion: ${GROUP}
kind: ClusterAdmissionPolicy
metadata:
  name: privileged-pods
spec:
  module: ${module}
  rules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      resources: ["pods"]
      operations: ["CREATE", "UPDATE"]
  mutating: false
`) as KubernetesObject;
}

function requiredLabelsPolicy(module: string, labels: string[]): KubernetesObject {
  return {
    apiVersion: GROUP,
    kind: 'AdmissionPolicy',
    metadata: { name: 'team-labels', namespace: 'default' },
    spec: {
      module,
      mutating: false,
      rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
      settings: { labels },
    },
  } as KubernetesObject;
}

interface WebhookAnswer {
  allowed: boolean;
  uid: string;
  message?: string;
  causes?: { field?: string; message?: string }[];
}

describe('reconciler (in-memory Kubernetes API fake, real NATS, registry and services)', () => {
  let nats: NatsServer;
  let registry: TestRegistry;
  let api: KubeApi;
  let kubelet: FakeKubelet;
  let objects: KubernetesObjectApi;
  let kubeConfig: KubeConfig;
  let nc: NatsConnection;
  let dir: string;
  const services: [string, ServerProcess][] = [];
  let gatewayPort = 0;
  let tlsMount: { stop(): void } | undefined;
  let moduleUrls: { privileged: string; labels: string };

  const logs = () =>
    [...services.map(([name, child]) => `--- ${name}\n${child.output()}`), kubelet?.logs() ?? ''].join('\n');

  const find = (apiVersion: string, kind: string, name: string, namespace?: string) => {
    const type = api.registry.byKind(apiVersion, kind);
    if (!type) throw new Error(`${kind} not served`);
    return api.store.find(type, namespace, name);
  };

  const waitFor = async <T>(
    what: string,
    probe: () => T | undefined | false,
    timeoutMs = 25_000,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs()}`);
      await sleep(100);
    }
  };

  /** The NATS credentials the reconciler minted for a pool: its Secret and the claims of its JWT. */
  const poolCredentials = (pool: string) => {
    const secret = find('v1', 'Secret', `castellan-nats-creds-evaluator-${pool}`, NAMESPACE) as
      (StoredObject & { data: Record<string, string> }) | undefined;
    if (!secret) return undefined;
    const text = (key: string) => Buffer.from(secret.data[key] ?? '', 'base64').toString('utf8');
    const creds = text('nats.creds');
    const token = /-----BEGIN NATS USER JWT-----\n(\S+)\n/.exec(creds)?.[1] ?? '';
    return { secret, creds, ca: text('ca.crt'), claims: decode<User>(token) };
  };
  /** The resourceVersion of the default pool's credentials Secret when it was first seen. */
  let defaultCredentialsVersion: string | undefined;

  const statusOf = (kind: string, name: string, namespace?: string) =>
    find(GROUP, kind, name, namespace)?.status as
      { policyStatus?: string; conditions?: { type: string; message: string }[] } | undefined;
  const policyStatus = (kind: string, name: string, namespace?: string) =>
    statusOf(kind, name, namespace)?.policyStatus;

  /** Calls a registered webhook the way the API server would: its service, path and caBundle. */
  const callWebhook = async (webhookName: string, review: Buffer): Promise<WebhookAnswer> => {
    const configuration = find(
      'admissionregistration.k8s.io/v1',
      'ValidatingWebhookConfiguration',
      webhookName,
    ) as
      | (StoredObject & {
          webhooks: {
            clientConfig: { caBundle: string; service: { name: string; namespace: string; path: string } };
          }[];
        })
      | undefined;
    const webhook = configuration?.webhooks[0];
    if (!webhook) throw new Error(`no webhook configuration ${webhookName}`);
    const { service, caBundle } = webhook.clientConfig;
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: gatewayPort,
          path: service.path,
          method: 'POST',
          // The Service's DNS name, which the serving certificate must carry.
          servername: `${service.name}.${service.namespace}.svc`,
          ca: Buffer.from(caBundle, 'base64').toString('utf8'),
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        },
      );
      req.on('error', reject);
      req.end(review);
    });
    const response = (
      JSON.parse(text) as {
        response: {
          allowed: boolean;
          uid: string;
          status?: { message?: string; details?: { causes?: WebhookAnswer['causes'] } };
        };
      }
    ).response;
    return {
      allowed: response.allowed,
      uid: response.uid,
      message: response.status?.message,
      causes: response.status?.details?.causes,
    };
  };

  const review = (name: 'privileged-pod' | 'unprivileged-pod') =>
    readFile(join(repo, 'examples/requests', `${name}.json`));

  const apply = async (object: KubernetesObject) => {
    const current = await objects.read(object as never).catch(() => undefined);
    if (!current) return objects.create(object);
    return objects.replace({
      ...object,
      metadata: { ...object.metadata, resourceVersion: current.metadata?.resourceVersion },
    });
  };

  beforeAll(async () => {
    // One after the other, so that afterAll stops whatever started when one of them cannot.
    nats = await startNatsServer();
    registry = await startRegistry();
    api = await startKubeApi();
    dir = await mkdtemp(join(tmpdir(), 'castellan-reconciler-e2e-'));
    api.store.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, api.kubeconfig);
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(api.kubeconfig);
    objects = KubernetesObjectApi.makeApiClient(kubeConfig);
    nc = await nats.connect({ role: 'control' });

    const pusher = new ModuleDistributionClient({
      sources: { insecureSources: [registry.host], sourceAuthorities: {} },
    });
    moduleUrls = {
      privileged: `registry://${registry.host}/kubewarden/policies/pod-privileged:v0.2.2`,
      labels: `registry://${registry.host}/kubewarden/policies/required-labels:v0.1.0`,
    };
    await pusher.push(
      await readFile(join(repo, 'examples/build/pod-privileged.wasm')),
      moduleUrls.privileged,
    );
    await pusher.push(await readFile(join(repo, 'examples/build/required-labels.wasm')), moduleUrls.labels);
    await pusher.close();

    const identities = {
      fetcher: await nats.serviceEnv({ role: 'fetcher' }),
      reconciler: await nats.serviceEnv({ role: 'control' }),
      gateway: await nats.serviceEnv({ role: 'gateway' }),
    };
    const service = (name: string, env: Record<string, string>) => {
      const binary = (name.startsWith('reconciler') ? 'reconciler' : name) as keyof typeof identities;
      const child = startProcess(process.execPath, [join(repo, 'services', binary, 'dist/main.js')], {
        ...identities[binary],
        CASTELLAN_LOG_LEVEL: 'info',
        ...env,
      });
      services.push([name, child]);
      return child;
    };
    // The registry is a plain-HTTP server on loopback: the fetcher's own configuration says both.
    const sourcesPath = join(dir, 'sources.yml');
    await writeFile(sourcesPath, `insecure_sources: ["${registry.host}"]\n`);
    service('fetcher', {
      CASTELLAN_SOURCES_PATH: sourcesPath,
      CASTELLAN_FETCHER_ALLOWED_NETWORKS: '127.0.0.1/32',
    });
    // Two replicas, as the production overlay runs them: one leads, the other stands by.
    for (const identity of ['reconciler-a', 'reconciler-b']) {
      const readinessPort = await freeLoopbackPort();
      const reconciler = service(identity, {
        KUBECONFIG: kubeconfigPath,
        CASTELLAN_NAMESPACE: NAMESPACE,
        CASTELLAN_LEADER_ELECT: 'true',
        CASTELLAN_LEADER_ELECTION_LEASE_SECONDS: '2',
        CASTELLAN_IDENTITY: identity,
        CASTELLAN_READINESS_PORT: String(readinessPort),
        CASTELLAN_EVALUATOR_IMAGE: 'ghcr.io/castellan-dev/castellan:test',
        // The signing keys of the bus, as the operator supplies them (castellan bus-secrets): the
        // reconciler mints each pool's credentials with them.
        CASTELLAN_NATS_AUTHORITY_FILE: nats.authorityFile,
      });
      await waitUntilReady(
        reconciler,
        identity,
        async () => (await fetch(`http://127.0.0.1:${readinessPort}/readiness`)).ok,
        30_000,
      );
    }
    kubelet = startFakeKubelet(kubeConfig, {
      namespace: NAMESPACE,
      env: { CASTELLAN_HEARTBEAT_MS: '300', CASTELLAN_ROLLOUT_GRACE_MS: '500', CASTELLAN_WORKERS: '1' },
    });

    // The gateway pod mounts the serving certificate the reconciler writes.
    const tlsDir = join(dir, 'gateway-tls');
    tlsMount = await mountSecret(kubeConfig, NAMESPACE, 'castellan-gateway-tls', tlsDir);
    gatewayPort = await freeLoopbackPort();
    const gatewayReadiness = await freeLoopbackPort();
    const gateway = service('gateway', {
      CASTELLAN_GATEWAY_ADDRESS: '127.0.0.1',
      CASTELLAN_GATEWAY_PORT: String(gatewayPort),
      CASTELLAN_READINESS_PORT: String(gatewayReadiness),
      CASTELLAN_TLS_CERT_FILE: join(tlsDir, 'tls.crt'),
      CASTELLAN_TLS_KEY_FILE: join(tlsDir, 'tls.key'),
    });
    await waitUntilReady(
      gateway,
      'gateway',
      async () => (await fetch(`http://127.0.0.1:${gatewayReadiness}/readiness`)).ok,
      30_000,
    );
  }, 120_000);

  afterAll(async () => {
    tlsMount?.stop();
    await kubelet?.stop();
    await Promise.all(services.map(([, child]) => child.stop()));
    await nc?.close();
    await Promise.all([nats?.stop(), registry?.stop(), api?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the CA and a gateway certificate for the Service DNS names', () => {
    const ca = find('v1', 'Secret', 'castellan-ca', NAMESPACE) as StoredObject & {
      data: Record<string, string>;
    };
    const tls = find('v1', 'Secret', 'castellan-gateway-tls', NAMESPACE) as StoredObject & {
      type: string;
      data: Record<string, string>;
    };
    expect(Object.keys(ca.data).sort()).toEqual(['ca.crt', 'ca.key']);
    expect(tls.type).toBe('kubernetes.io/tls');
    expect(Object.keys(tls.data).sort()).toEqual(['tls.crt', 'tls.key']);
  });

  it('runs the evaluator pool of a PolicyServer applied from its manifest', async () => {
    const manifest = parse(
      await readFile(join(repo, 'deploy/base/policyserver-default.yaml'), 'utf8'),
    ) as KubernetesObject & {
      spec: Record<string, unknown>;
    };
    // Kubewarden would trust this registry for this PolicyServer's pulls; Castellan's shared fetcher
    // trusts only its own sources.yml, and the PolicyServer is told so.
    manifest.spec.insecureSources = [registry.host];
    await apply(manifest);
    const deployment = await waitFor('the evaluator Deployment', () =>
      find('apps/v1', 'Deployment', 'castellan-evaluator-default', NAMESPACE),
    );
    expect(deployment.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'PolicyServer', name: 'default' });
    await waitFor('an evaluator pod', () => kubelet.pods().length === 1);
    // Its NATS credentials: minted by the reconciler for this pool alone, owned by the PolicyServer,
    // and the ones its pod reads through the Secret volume.
    const credentials = poolCredentials('default');
    expect(credentials?.secret.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'PolicyServer',
      name: 'default',
    });
    expect(credentials?.claims.name).toBe('castellan-evaluator-default');
    expect(credentials?.claims.nats.sub?.allow).toEqual([
      'castellan.eval.default.> default',
      '_INBOX.evaluator.default.>',
    ]);
    expect(credentials?.claims.exp).toBeGreaterThan(Date.now() / 1000 + 29 * 24 * 3600);
    expect(credentials?.ca).toBe(await readFile(nats.caFile, 'utf8'));
    const [pod] = kubelet.pods();
    expect(await readFile(pod?.env.CASTELLAN_NATS_CREDS ?? '', 'utf8')).toBe(credentials?.creds);
    expect(await readFile(pod?.env.CASTELLAN_NATS_CA ?? '', 'utf8')).toBe(credentials?.ca);
    defaultCredentialsVersion = credentials?.secret.metadata.resourceVersion;
    const server = await waitFor('the SourcesIgnored condition', () => {
      const found = find(GROUP, 'PolicyServer', 'default') as StoredObject & {
        status?: { conditions?: { type: string; status: string; message: string }[] };
      };
      return found.status?.conditions?.some((c) => c.type === 'SourcesIgnored') ? found : undefined;
    });
    expect(server.metadata.finalizers).toContain('policies.castellan.dev/finalizer');
    expect(server.status?.conditions?.find((c) => c.type === 'NatsCredentialsReconciled')).toMatchObject({
      status: 'True',
      message: expect.stringMatching(
        /^the NATS credentials of pool default in Secret castellan-nats-creds-evaluator-default are valid until \d{4}-/,
      ) as unknown,
    });
    expect(server.status?.conditions?.find((c) => c.type === 'SourcesIgnored')).toMatchObject({
      status: 'True',
      message: expect.stringContaining('CASTELLAN_SOURCES_PATH') as unknown,
    });
  });

  it('activates a Kubewarden quick-start policy only once its evaluators serve it, and its webhook answers over TLS', async () => {
    await apply(privilegedPodsPolicy(moduleUrls.privileged));
    await waitFor(
      'privileged-pods to be active',
      () => policyStatus('ClusterAdmissionPolicy', 'privileged-pods') === 'active',
    );
    const policy = find(GROUP, 'ClusterAdmissionPolicy', 'privileged-pods') as StoredObject & {
      status: { conditions: { type: string; status: string; reason: string }[]; mode: string };
    };
    expect(policy.status.mode).toBe('protect');
    expect(policy.status.conditions.map((c) => [c.type, c.status])).toEqual([
      ['PolicyActive', 'True'],
      ['PolicyServerConfigurationUpToDate', 'True'],
      ['PolicyUniquelyReachable', 'True'],
    ]);
    const ca = find('v1', 'Secret', 'castellan-ca', NAMESPACE) as StoredObject & {
      data: Record<string, string>;
    };
    const webhook = find(
      'admissionregistration.k8s.io/v1',
      'ValidatingWebhookConfiguration',
      'clusterwide-privileged-pods',
    ) as (StoredObject & { webhooks: { clientConfig: { caBundle: string; service: object } }[] }) | undefined;
    expect(webhook?.webhooks[0]?.clientConfig).toEqual({
      service: {
        namespace: NAMESPACE,
        name: 'castellan-gateway',
        path: '/validate/clusterwide-privileged-pods',
        port: 443,
      },
      caBundle: ca.data['ca.crt'],
    });

    const privileged = await review('privileged-pod');
    const denied = await callWebhook('clusterwide-privileged-pods', privileged);
    expect(denied.allowed).toBe(false);
    expect(denied.uid).toBe(
      (JSON.parse(privileged.toString('utf8')) as { request: { uid: string } }).request.uid,
    );
    const allowed = await callWebhook('clusterwide-privileged-pods', await review('unprivileged-pod'));
    expect(allowed.allowed).toBe(true);
  });

  it('rolls a settings change out to the running evaluators after its watches expired: new verdict, no pod restarted', async () => {
    const podsBefore = kubelet.started();
    const deploymentBefore = find('apps/v1', 'Deployment', 'castellan-evaluator-default', NAMESPACE);
    // Every watch the reconciler holds is dropped and its history compacted: it must relist (410).
    api.expireWatchHistory();
    api.breakWatches();
    await apply(requiredLabelsPolicy(moduleUrls.labels, ['nginx-never-has-this']));
    await waitFor(
      'team-labels to be active',
      () => policyStatus('AdmissionPolicy', 'team-labels', 'default') === 'active',
    );
    const webhookName = 'namespaced-default-team-labels';
    expect((await callWebhook(webhookName, await review('unprivileged-pod'))).allowed).toBe(false);

    // Settings the unprivileged pod meets: `nginx` carries no labels, so an empty list.
    await apply(requiredLabelsPolicy(moduleUrls.labels, []));
    const deadline = Date.now() + 30_000;
    let verdict = await callWebhook(webhookName, await review('unprivileged-pod'));
    while (!verdict.allowed && Date.now() < deadline) {
      await sleep(100);
      verdict = await callWebhook(webhookName, await review('unprivileged-pod'));
    }
    expect(verdict.allowed).toBe(true);
    expect(kubelet.started()).toBe(podsBefore);
    expect(find('apps/v1', 'Deployment', 'castellan-evaluator-default', NAMESPACE)?.metadata.generation).toBe(
      deploymentBefore?.metadata.generation,
    );
  });

  it(
    'keeps a policy pending, without a webhook, while its pool has no evaluator',
    { timeout: 90_000 },
    async () => {
      const tenant = {
        apiVersion: GROUP,
        kind: 'PolicyServer',
        metadata: { name: 'tenant-a' },
        spec: {
          image: 'ghcr.io/kubewarden/policy-server:v1.20.0',
          replicas: 0,
        },
      } as KubernetesObject;
      await apply(tenant);
      const policy = privilegedPodsPolicy(moduleUrls.privileged) as KubernetesObject & {
        spec: Record<string, unknown>;
      };
      policy.metadata = { name: 'tenant-privileged-pods' };
      policy.spec.policyServer = 'tenant-a';
      await apply(policy);
      const reachable = () =>
        statusOf('ClusterAdmissionPolicy', 'tenant-privileged-pods')?.conditions?.find(
          (c) => c.type === 'PolicyUniquelyReachable',
        );
      const waiting = await waitFor('the policy to say why it waits', reachable);
      expect(waiting.message).toBe(
        'no live evaluator in pool tenant-a: check the PolicyServer tenant-a and its evaluator Deployment',
      );
      expect(policyStatus('ClusterAdmissionPolicy', 'tenant-privileged-pods')).toBe('pending');
      expect(
        find(
          'admissionregistration.k8s.io/v1',
          'ValidatingWebhookConfiguration',
          'clusterwide-tenant-privileged-pods',
        ),
      ).toBeUndefined();
      // A Kubewarden policy-server image is replaced by the Castellan one, and the PolicyServer says so.
      const deployment = find(
        'apps/v1',
        'Deployment',
        'castellan-evaluator-tenant-a',
        NAMESPACE,
      ) as StoredObject & {
        spec: { template: { spec: { containers: { image: string }[] } } };
      };
      expect(deployment.spec.template.spec.containers[0]?.image).toBe('ghcr.io/castellan-dev/castellan:test');

      await apply({
        ...tenant,
        spec: { ...(tenant as unknown as { spec: object }).spec, replicas: 1 },
      } as KubernetesObject);
      await waitFor(
        'the policy to be active once an evaluator serves it',
        () => policyStatus('ClusterAdmissionPolicy', 'tenant-privileged-pods') === 'active',
      );
      const denied = await callWebhook('clusterwide-tenant-privileged-pods', await review('privileged-pod'));
      expect(denied.allowed).toBe(false);
      // The tenant's pool has credentials of its own, and its pod only those.
      expect(poolCredentials('tenant-a')?.claims.name).toBe('castellan-evaluator-tenant-a');
      expect(poolCredentials('tenant-a')?.claims.nats.sub?.allow).toEqual([
        'castellan.eval.tenant-a.> tenant-a',
        '_INBOX.evaluator.tenant-a.>',
      ]);
      const tenantPod = kubelet.pods().find((p) => p.deployment === 'castellan-evaluator-tenant-a');
      expect(await readFile(tenantPod?.env.CASTELLAN_NATS_CREDS ?? '', 'utf8')).toBe(
        poolCredentials('tenant-a')?.creds,
      );
      await objects.delete(policy);
      await objects.delete(tenant);
      await waitFor('tenant-a to be gone', () => !find(GROUP, 'PolicyServer', 'tenant-a'));
      // Garbage-collected with its PolicyServer (ownerReference).
      expect(poolCredentials('tenant-a')).toBeUndefined();
      expect(poolCredentials('default')).toBeDefined();
    },
  );

  it('evaluates a ClusterAdmissionPolicyGroup: lazy members, the group message, a cause per denying member', async () => {
    await apply({
      apiVersion: GROUP,
      kind: 'ClusterAdmissionPolicyGroup',
      metadata: { name: 'safe-pods' },
      spec: {
        rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
        expression: 'unprivileged() && labelled()',
        message: 'pods must be unprivileged and labelled',
        policies: {
          unprivileged: { module: moduleUrls.privileged },
          labelled: { module: moduleUrls.labels, settings: { labels: ['owner'] } },
        },
      },
    } as KubernetesObject);
    await waitFor(
      'safe-pods to be active',
      () => policyStatus('ClusterAdmissionPolicyGroup', 'safe-pods') === 'active',
    );
    const webhook = 'clusterwide-group-safe-pods';
    const unlabelled = await callWebhook(webhook, await review('unprivileged-pod'));
    expect(unlabelled).toMatchObject({ allowed: false, message: 'pods must be unprivileged and labelled' });
    expect(unlabelled.causes).toEqual([
      { field: 'spec.policies.labelled', message: 'missing required labels: owner' },
    ]);
    // The first member denies, so the second never runs: one cause.
    const privileged = await callWebhook(webhook, await review('privileged-pod'));
    expect(privileged.allowed).toBe(false);
    expect(privileged.causes?.map((cause) => cause.field)).toEqual(['spec.policies.unprivileged']);
  });

  it('hands over to the standby replica when the leader is killed', async () => {
    const holder = () =>
      (
        find('coordination.k8s.io/v1', 'Lease', 'castellan-reconciler', NAMESPACE)?.spec as {
          holderIdentity?: string;
        }
      )?.holderIdentity;
    const leader = holder();
    expect(['reconciler-a', 'reconciler-b']).toContain(leader);
    const leaderProcess = services.find(([name]) => name === leader)?.[1];
    await leaderProcess?.kill();
    await waitFor('the standby to take the Lease', () => {
      const now = holder();
      return now !== leader && now !== '' && now !== undefined;
    });
  });

  it('deletes a policy: webhook first, then its policy-store key, then the policy itself', async () => {
    await objects.delete(privilegedPodsPolicy(moduleUrls.privileged));
    await waitFor('the policy to be gone', () => !find(GROUP, 'ClusterAdmissionPolicy', 'privileged-pods'));
    expect(
      find(
        'admissionregistration.k8s.io/v1',
        'ValidatingWebhookConfiguration',
        'clusterwide-privileged-pods',
      ),
    ).toBeUndefined();
    const kv = await new Kvm(nc).open(Bucket.Policies);
    expect(await kv.get(policyKey('default', 'clusterwide-privileged-pods'))).toSatisfy(
      (entry: { operation: string } | null) => entry === null || entry.operation !== 'PUT',
    );
    // Order of the writes: the webhook's DELETE, then the policy's finalizer removed (a PUT).
    const webhookDelete = api.requests.findIndex(
      (r) =>
        r.method === 'DELETE' &&
        r.path.endsWith('/validatingwebhookconfigurations/clusterwide-privileged-pods'),
    );
    const finalizerRemoval = api.requests.findLastIndex(
      (r) => r.method === 'PUT' && r.path.endsWith('/clusteradmissionpolicies/privileged-pods'),
    );
    expect(webhookDelete).toBeGreaterThan(-1);
    expect(finalizerRemoval).toBeGreaterThan(webhookDelete);
  });

  it('deletes a PolicyServer only after its policies lost their webhooks; its evaluators and credentials go with it', async () => {
    // Every reconcile of the pool since its credentials were minted, by either leader, kept them.
    expect(defaultCredentialsVersion).toBeDefined();
    expect(poolCredentials('default')?.secret.metadata.resourceVersion).toBe(defaultCredentialsVersion);
    await objects.delete({ apiVersion: GROUP, kind: 'PolicyServer', metadata: { name: 'default' } });
    await waitFor('the PolicyServer to be gone', () => !find(GROUP, 'PolicyServer', 'default'));
    expect(
      find(
        'admissionregistration.k8s.io/v1',
        'ValidatingWebhookConfiguration',
        'namespaced-default-team-labels',
      ),
    ).toBeUndefined();
    expect(policyStatus('AdmissionPolicy', 'team-labels', 'default')).toBe('scheduled');
    expect(find('apps/v1', 'Deployment', 'castellan-evaluator-default', NAMESPACE)).toBeUndefined();
    expect(poolCredentials('default')).toBeUndefined();
    await waitFor('the evaluator pods to stop', () => kubelet.pods().length === 0);
  });
});
