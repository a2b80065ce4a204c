// The reconciler end to end against a real kube-apiserver (and the garbage collector of a real
// kube-controller-manager): the real reconciler, fetcher, gateway and evaluator binaries on a real,
// locked nats-server and docker-registry. Kubewarden manifests with only apiVersion changed go in;
// webhooks, certificates, each pool's NATS credentials and evaluator pods (which read those
// credentials from their Secret volume) come out, and the webhook the reconciler registers answers
// over TLS with the caBundle it wrote.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ModuleDistributionClient } from '@castellan/oci';
import { Bucket, policyKey } from '@castellan/proto';
import { KubernetesObjectApi, Watch } from '@kubernetes/client-node';
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { decode } from '@nats-io/jwt';
import type { User } from '@nats-io/jwt';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CASTELLAN_NAMESPACE as NAMESPACE,
  EVALUATOR_IMAGE,
  startCastellanInCluster,
} from '../harness/castellan-in-cluster.js';
import type { CastellanInCluster } from '../harness/castellan-in-cluster.js';
import { startControlPlane } from '../harness/control-plane.js';
import type { ControlPlane } from '../harness/control-plane.js';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';
import { startRegistry } from '../harness/registry.js';
import type { TestRegistry } from '../harness/registry.js';
import { waitFor as pollUntil } from '../harness/wait.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const GROUP = 'policies.castellan.dev/v1';
/** An object as read back: the API server always sets its metadata. */
type StoredObject = KubernetesObject & { metadata: V1ObjectMeta };

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

describe('reconciler (real kube-apiserver, NATS, registry and services)', () => {
  let cluster: ControlPlane;
  let nats: NatsServer;
  let registry: TestRegistry;
  let castellan: CastellanInCluster;
  let objects: KubernetesObjectApi;
  let nc: NatsConnection;
  let dir: string;
  let moduleUrls: { privileged: string; labels: string };

  const logs = () => [castellan?.logs() ?? '', '--- control plane', cluster?.logs() ?? ''].join('\n');

  /** An object as the API server has it now, or undefined when it does not exist. */
  const find = <T extends KubernetesObject = StoredObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ) => cluster.find<T>(apiVersion, kind, name, namespace);
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>) =>
    pollUntil(what, probe, { context: logs });

  /** The NATS credentials the reconciler minted for a pool: its Secret and the claims of its JWT. */
  const poolCredentials = async (pool: string) => {
    const secret = await find<StoredObject & { data: Record<string, string> }>(
      'v1',
      'Secret',
      `castellan-nats-creds-evaluator-${pool}`,
      NAMESPACE,
    );
    if (!secret) return undefined;
    const text = (key: string) => Buffer.from(secret.data[key] ?? '', 'base64').toString('utf8');
    const creds = text('nats.creds');
    const token = /-----BEGIN NATS USER JWT-----\n(\S+)\n/.exec(creds)?.[1] ?? '';
    return { secret, creds, ca: text('ca.crt'), claims: decode<User>(token) };
  };
  /** The resourceVersion of the default pool's credentials Secret when it was first seen. */
  let defaultCredentialsVersion: string | undefined;

  const statusOf = async (kind: string, name: string, namespace?: string) =>
    (
      await find<
        StoredObject & {
          status?: { policyStatus?: string; conditions?: { type: string; message: string }[] };
        }
      >(GROUP, kind, name, namespace)
    )?.status;
  const policyStatus = async (kind: string, name: string, namespace?: string) =>
    (await statusOf(kind, name, namespace))?.policyStatus;

  /** Calls a registered webhook the way the API server would: its service, path and caBundle. */
  const callWebhook = async (webhookName: string, review: Buffer): Promise<WebhookAnswer> => {
    const configuration = await find<
      StoredObject & {
        webhooks: {
          clientConfig: { caBundle: string; service: { name: string; namespace: string; path: string } };
        }[];
      }
    >('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', webhookName);
    const webhook = configuration?.webhooks[0];
    if (!webhook) throw new Error(`no webhook configuration ${webhookName}`);
    const { service, caBundle } = webhook.clientConfig;
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: castellan.gatewayPort,
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
    cluster = await startControlPlane({ garbageCollector: true });
    nats = await startNatsServer();
    registry = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), 'castellan-reconciler-e2e-'));
    objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig());
    await cluster.applyCrds();
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
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

    // Two reconciler replicas, as the production values run them: one leads, the other stands by.
    // Webhooks point at the gateway Service (the default): this test calls them itself.
    castellan = await startCastellanInCluster({
      cluster,
      nats,
      registry,
      dir,
      reconcilers: ['reconciler-a', 'reconciler-b'],
      gatewayByUrl: false,
    });
  }, 180_000);

  afterAll(async () => {
    await castellan?.stop();
    await nc?.close();
    await Promise.all([nats?.stop(), registry?.stop(), cluster?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the CA and a gateway certificate for the Service DNS names', async () => {
    const ca = await find<StoredObject & { data: Record<string, string> }>(
      'v1',
      'Secret',
      'castellan-ca',
      NAMESPACE,
    );
    const tls = await find<StoredObject & { type: string; data: Record<string, string> }>(
      'v1',
      'Secret',
      'castellan-gateway-tls',
      NAMESPACE,
    );
    expect(Object.keys(ca?.data ?? {}).sort()).toEqual(['ca.crt', 'ca.key']);
    expect(tls?.type).toBe('kubernetes.io/tls');
    expect(Object.keys(tls?.data ?? {}).sort()).toEqual(['tls.crt', 'tls.key']);
  });

  it('runs the evaluator pool of a PolicyServer applied from its manifest', async () => {
    // The default pool as the chart installs it. Kubewarden would trust this registry for this
    // PolicyServer's pulls; Castellan's shared fetcher trusts only its own sources.yml, and the
    // PolicyServer is told so.
    const manifest = {
      apiVersion: GROUP,
      kind: 'PolicyServer',
      metadata: { name: 'default' },
      spec: { image: 'ghcr.io/castellan-dev/castellan:0.1.0', replicas: 1, insecureSources: [registry.host] },
    } as KubernetesObject;
    await apply(manifest);
    const deployment = await waitFor('the evaluator Deployment', () =>
      find<StoredObject>('apps/v1', 'Deployment', 'castellan-evaluator-default', NAMESPACE),
    );
    expect(deployment.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'PolicyServer', name: 'default' });
    await waitFor('an evaluator pod', () => Promise.resolve(castellan.kubelet.pods().length === 1));
    // Its NATS credentials: minted by the reconciler for this pool alone, owned by the PolicyServer,
    // and the ones its pod reads through the Secret volume.
    const credentials = await poolCredentials('default');
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
    const [pod] = castellan.kubelet.pods();
    expect(await readFile(pod?.env.CASTELLAN_NATS_CREDS ?? '', 'utf8')).toBe(credentials?.creds);
    expect(await readFile(pod?.env.CASTELLAN_NATS_CA ?? '', 'utf8')).toBe(credentials?.ca);
    defaultCredentialsVersion = credentials?.secret.metadata.resourceVersion;
    const server = await waitFor('the SourcesIgnored condition', async () => {
      const found = await find<
        StoredObject & { status?: { conditions?: { type: string; status: string; message: string }[] } }
      >(GROUP, 'PolicyServer', 'default');
      return found?.status?.conditions?.some((c) => c.type === 'SourcesIgnored') ? found : undefined;
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
      async () => (await policyStatus('ClusterAdmissionPolicy', 'privileged-pods')) === 'active',
    );
    const policy = await find<
      StoredObject & {
        status: { conditions: { type: string; status: string; reason: string }[]; mode: string };
      }
    >(GROUP, 'ClusterAdmissionPolicy', 'privileged-pods');
    expect(policy?.status.mode).toBe('protect');
    expect(policy?.status.conditions.map((c) => [c.type, c.status])).toEqual([
      ['PolicyActive', 'True'],
      ['PolicyServerConfigurationUpToDate', 'True'],
      ['PolicyUniquelyReachable', 'True'],
    ]);
    const ca = await find<StoredObject & { data: Record<string, string> }>(
      'v1',
      'Secret',
      'castellan-ca',
      NAMESPACE,
    );
    const webhook = await find<
      StoredObject & { webhooks: { clientConfig: { caBundle: string; service: object } }[] }
    >('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'clusterwide-privileged-pods');
    expect(webhook?.webhooks[0]?.clientConfig).toEqual({
      service: {
        namespace: NAMESPACE,
        name: 'castellan-gateway',
        path: '/validate/clusterwide-privileged-pods',
        port: 443,
      },
      caBundle: ca?.data['ca.crt'],
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

  it('rolls a settings change out to the running evaluators across an API server restart: new verdict, no pod restarted', async () => {
    const podsBefore = castellan.kubelet.started();
    const deploymentBefore = await find('apps/v1', 'Deployment', 'castellan-evaluator-default', NAMESPACE);
    // Every watch the reconcilers hold breaks: they must watch again and pick up what changed.
    await cluster.restartApiServer();
    await apply(requiredLabelsPolicy(moduleUrls.labels, ['nginx-never-has-this']));
    await waitFor(
      'team-labels to be active',
      async () => (await policyStatus('AdmissionPolicy', 'team-labels', 'default')) === 'active',
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
    expect(castellan.kubelet.started()).toBe(podsBefore);
    expect(
      (await find('apps/v1', 'Deployment', 'castellan-evaluator-default', NAMESPACE))?.metadata?.generation,
    ).toBe(deploymentBefore?.metadata?.generation);
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
      const reachable = async () =>
        (await statusOf('ClusterAdmissionPolicy', 'tenant-privileged-pods'))?.conditions?.find(
          (c) => c.type === 'PolicyUniquelyReachable',
        );
      const waiting = await waitFor('the policy to say why it waits', reachable);
      expect(waiting.message).toBe(
        'no live evaluator in pool tenant-a: check the PolicyServer tenant-a and its evaluator Deployment',
      );
      expect(await policyStatus('ClusterAdmissionPolicy', 'tenant-privileged-pods')).toBe('pending');
      expect(
        await find(
          'admissionregistration.k8s.io/v1',
          'ValidatingWebhookConfiguration',
          'clusterwide-tenant-privileged-pods',
        ),
      ).toBeUndefined();
      // A Kubewarden policy-server image is replaced by the Castellan one, and the PolicyServer says so.
      const deployment = await find<
        StoredObject & { spec: { template: { spec: { containers: { image: string }[] } } } }
      >('apps/v1', 'Deployment', 'castellan-evaluator-tenant-a', NAMESPACE);
      expect(deployment?.spec.template.spec.containers[0]?.image).toBe(EVALUATOR_IMAGE);

      await apply({
        ...tenant,
        spec: { ...(tenant as unknown as { spec: object }).spec, replicas: 1 },
      } as KubernetesObject);
      await waitFor(
        'the policy to be active once an evaluator serves it',
        async () => (await policyStatus('ClusterAdmissionPolicy', 'tenant-privileged-pods')) === 'active',
      );
      const denied = await callWebhook('clusterwide-tenant-privileged-pods', await review('privileged-pod'));
      expect(denied.allowed).toBe(false);
      // The tenant's pool has credentials of its own, and its pod only those.
      const tenantCredentials = await poolCredentials('tenant-a');
      expect(tenantCredentials?.claims.name).toBe('castellan-evaluator-tenant-a');
      expect(tenantCredentials?.claims.nats.sub?.allow).toEqual([
        'castellan.eval.tenant-a.> tenant-a',
        '_INBOX.evaluator.tenant-a.>',
      ]);
      const tenantPod = castellan.kubelet.pods().find((p) => p.deployment === 'castellan-evaluator-tenant-a');
      expect(await readFile(tenantPod?.env.CASTELLAN_NATS_CREDS ?? '', 'utf8')).toBe(
        tenantCredentials?.creds,
      );
      await objects.delete(policy);
      await objects.delete(tenant);
      await waitFor('tenant-a to be gone', async () => !(await find(GROUP, 'PolicyServer', 'tenant-a')));
      // Garbage-collected with its PolicyServer (ownerReference), by the controller manager.
      await waitFor(
        'the credentials of tenant-a to be collected',
        async () => !(await poolCredentials('tenant-a')),
      );
      expect(await poolCredentials('default')).toBeDefined();
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
      async () => (await policyStatus('ClusterAdmissionPolicyGroup', 'safe-pods')) === 'active',
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
    const holder = async () =>
      (
        await find<StoredObject & { spec?: { holderIdentity?: string } }>(
          'coordination.k8s.io/v1',
          'Lease',
          'castellan-reconciler',
          NAMESPACE,
        )
      )?.spec?.holderIdentity;
    const leader = await holder();
    expect(['reconciler-a', 'reconciler-b']).toContain(leader);
    await castellan.kill(leader ?? '');
    await waitFor('the standby to take the Lease', async () => {
      const now = await holder();
      return now !== leader && now !== '' && now !== undefined;
    });
  });

  it('deletes a policy: webhook first, then its policy-store key, then the policy itself', async () => {
    // What the API server tells watchers, in its order.
    const events: string[] = [];
    const watch = new Watch(cluster.kubeConfig());
    const record = (what: string) => (type: string, object: KubernetesObject) =>
      events.push(`${type} ${what} ${object.metadata?.name}`);
    const watches = await Promise.all([
      watch.watch(
        '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
        {},
        record('webhook'),
        () => undefined,
      ),
      watch.watch(
        '/apis/policies.castellan.dev/v1/clusteradmissionpolicies',
        {},
        record('policy'),
        () => undefined,
      ),
    ]);
    try {
      await objects.delete(privilegedPodsPolicy(moduleUrls.privileged));
      await waitFor(
        'the policy to be gone',
        async () => !(await find(GROUP, 'ClusterAdmissionPolicy', 'privileged-pods')),
      );
      await waitFor('the watches to see it go', () =>
        Promise.resolve(events.includes('DELETED policy privileged-pods')),
      );
    } finally {
      for (const controller of watches) controller.abort();
    }
    expect(
      await find(
        'admissionregistration.k8s.io/v1',
        'ValidatingWebhookConfiguration',
        'clusterwide-privileged-pods',
      ),
    ).toBeUndefined();
    const kv = await new Kvm(nc).open(Bucket.Policies);
    expect(await kv.get(policyKey('default', 'clusterwide-privileged-pods'))).toSatisfy(
      (entry: { operation: string } | null) => entry === null || entry.operation !== 'PUT',
    );
    // The webhook went before the policy: the reconciler removes its finalizer only after that.
    const webhookDeleted = events.indexOf('DELETED webhook clusterwide-privileged-pods');
    expect(webhookDeleted).toBeGreaterThan(-1);
    expect(events.indexOf('DELETED policy privileged-pods')).toBeGreaterThan(webhookDeleted);
  });

  it('deletes a PolicyServer only after its policies lost their webhooks; its evaluators and credentials go with it', async () => {
    // Every reconcile of the pool since its credentials were minted, by either leader, kept them.
    expect(defaultCredentialsVersion).toBeDefined();
    expect((await poolCredentials('default'))?.secret.metadata.resourceVersion).toBe(
      defaultCredentialsVersion,
    );
    await objects.delete({ apiVersion: GROUP, kind: 'PolicyServer', metadata: { name: 'default' } });
    await waitFor('the PolicyServer to be gone', async () => !(await find(GROUP, 'PolicyServer', 'default')));
    expect(
      await find(
        'admissionregistration.k8s.io/v1',
        'ValidatingWebhookConfiguration',
        'namespaced-default-team-labels',
      ),
    ).toBeUndefined();
    expect(await policyStatus('AdmissionPolicy', 'team-labels', 'default')).toBe('scheduled');
    // Garbage-collected with the PolicyServer (ownerReference), by the controller manager.
    await waitFor(
      'the evaluator Deployment to be collected',
      async () => !(await find('apps/v1', 'Deployment', 'castellan-evaluator-default', NAMESPACE)),
    );
    await waitFor(
      'the credentials of default to be collected',
      async () => !(await poolCredentials('default')),
    );
    await waitFor('the evaluator pods to stop', () => Promise.resolve(castellan.kubelet.pods().length === 0));
  });
});
