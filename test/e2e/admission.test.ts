// What Castellan exists for, end to end: a real kube-apiserver, with the webhook configurations the
// reconciler registered and the CA bundle it wrote, calls the gateway over TLS while kubectl creates
// pods. The reconciler, fetcher, gateway and evaluator run as processes on a real, locked
// nats-server; the policies come from a real registry.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModuleDistributionClient } from '@castellan/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CASTELLAN_NAMESPACE,
  EVALUATOR_IMAGE,
  startCastellanInCluster,
} from '../harness/castellan-in-cluster.js';
import type { CastellanInCluster } from '../harness/castellan-in-cluster.js';
import { startControlPlane } from '../harness/control-plane.js';
import type { ControlPlane, KubectlResult } from '../harness/control-plane.js';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';
import { startRegistry } from '../harness/registry.js';
import type { TestRegistry } from '../harness/registry.js';
import { waitFor as pollUntil } from '../harness/wait.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const GROUP = 'policies.castellan.dev/v1';
const WAIT_MS = 45_000;
/** Namespaces of the tests: each cluster-wide policy is confined to its own. */
const Namespace = {
  Privileged: 'privileged-test',
  Mutating: 'mutating-test',
  Monitor: 'monitor-test',
  TeamA: 'team-a',
  TeamB: 'team-b',
} as const;

interface PodOptions {
  privileged?: boolean;
  labels?: Record<string, string>;
}

function pod(name: string, namespace: string, options: PodOptions = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: options.labels ?? {} },
    spec: {
      containers: [
        {
          name: 'nginx',
          image: 'nginx:1.27',
          ...(options.privileged ? { securityContext: { privileged: true } } : {}),
        },
      ],
    },
  });
}

/** A ClusterAdmissionPolicy on pod creation, confined to one namespace of this test. */
function clusterPolicy(name: string, namespace: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: GROUP,
    kind: 'ClusterAdmissionPolicy',
    metadata: { name },
    spec: {
      rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
      mutating: false,
      namespaceSelector: {
        matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [namespace] }],
      },
      ...spec,
    },
  });
}

describe('admission through a real kube-apiserver', () => {
  let cluster: ControlPlane;
  let nats: NatsServer;
  let registry: TestRegistry;
  let castellan: CastellanInCluster;
  let dir: string;
  const modules = { privileged: '', labels: '', addLabel: '' };

  const logs = () => [castellan?.logs() ?? '', '--- control plane', cluster?.logs() ?? ''].join('\n');
  const kubectl = async (args: string[], input?: string): Promise<KubectlResult> =>
    cluster.kubectl(args, input);
  const mustKubectl = async (args: string[], input?: string): Promise<string> => {
    const result = await kubectl(args, input);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  };
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>) =>
    pollUntil(what, probe, { timeoutMs: WAIT_MS, intervalMs: 200, context: logs });
  const policyStatus = async (
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<string | undefined> => {
    const args = ['get', kind.toLowerCase(), name, '-o', 'jsonpath={.status.policyStatus}'];
    const result = await kubectl(namespace ? [...args, '-n', namespace] : args);
    return result.code === 0 ? result.stdout : undefined;
  };
  /** Applies a policy and waits until it is active and its webhook is registered. */
  const activate = async (manifest: string, kind: string, name: string, namespace?: string) => {
    await mustKubectl(['apply', '-f', '-'], manifest);
    await waitFor(
      `${kind} ${name} to be active`,
      async () => (await policyStatus(kind, name, namespace)) === 'active',
    );
  };
  /**
   * The API server reads webhook configurations through its own informer: a pod created just after
   * the reconciler registered one may not be sent to it yet. Server-side dry runs are (the
   * webhooks have no side effects), so this asks until `effective` says the webhook answered.
   */
  const untilWebhookCalled = async (manifest: string, effective: (result: KubectlResult) => boolean) =>
    waitFor('the API server to call the webhook', async () => {
      const result = await kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], manifest);
      return effective(result) ? result : undefined;
    });
  const evaluations = async (policyName: string): Promise<number> => {
    const text = await (await fetch(`${castellan.gatewayAdminUrl}/metrics`)).text();
    return text
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('castellan_policy_evaluations_total{') &&
          line.includes(`policy_name="${policyName}"`),
      )
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  };

  beforeAll(async () => {
    // One after the other, so that afterAll stops whatever started when one of them cannot.
    cluster = await startControlPlane();
    nats = await startNatsServer();
    registry = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), 'castellan-admission-e2e-'));

    const pusher = new ModuleDistributionClient({
      sources: { insecureSources: [registry.host], sourceAuthorities: {} },
    });
    const push = async (file: string, name: string) => {
      const url = `registry://${registry.host}/policies/${name}:v1`;
      await pusher.push(await readFile(join(repo, 'examples/build', file)), url);
      return url;
    };
    modules.privileged = await push('pod-privileged.wasm', 'pod-privileged');
    modules.labels = await push('required-labels.wasm', 'required-labels');
    modules.addLabel = await push('add-label.wasm', 'add-label');
    await pusher.close();

    await cluster.applyCrds();
    for (const namespace of [CASTELLAN_NAMESPACE, ...Object.values(Namespace)]) {
      await mustKubectl(['create', 'namespace', namespace]);
    }
    castellan = await startCastellanInCluster({
      cluster,
      nats,
      registry,
      dir,
      reconcilers: ['reconciler'],
      gatewayByUrl: true,
    });
    await mustKubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: GROUP,
        kind: 'PolicyServer',
        metadata: { name: 'default' },
        spec: { image: EVALUATOR_IMAGE, replicas: 1 },
      }),
    );
    await waitFor('an evaluator pod', () => Promise.resolve(castellan.kubelet.pods().length === 1));
  }, 180_000);

  afterAll(async () => {
    await castellan?.stop();
    await Promise.all([nats?.stop(), registry?.stop(), cluster?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses to create a privileged pod with the policy message, and creates an unprivileged one', async () => {
    await activate(
      clusterPolicy('privileged-pods', Namespace.Privileged, { module: modules.privileged }),
      'ClusterAdmissionPolicy',
      'privileged-pods',
    );
    const privileged = pod('privileged', Namespace.Privileged, { privileged: true });
    await untilWebhookCalled(privileged, (result) => result.code !== 0);

    const refused = await kubectl(['create', '-f', '-'], privileged);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      'admission webhook "clusterwide-privileged-pods.castellan.dev" denied the request: Privileged container is not allowed',
    );
    expect((await kubectl(['get', 'pod', 'privileged', '-n', Namespace.Privileged])).code).not.toBe(0);

    await mustKubectl(['create', '-f', '-'], pod('unprivileged', Namespace.Privileged));
    expect(await mustKubectl(['get', 'pod', 'unprivileged', '-n', Namespace.Privileged, '-o', 'name'])).toBe(
      'pod/unprivileged\n',
    );
  });

  it("stores the object a mutating policy patched, through the webhook's CA bundle and TLS", async () => {
    await activate(
      clusterPolicy('add-label', Namespace.Mutating, { module: modules.addLabel, mutating: true }),
      'ClusterAdmissionPolicy',
      'add-label',
    );
    const configuration = JSON.parse(
      await mustKubectl(['get', 'mutatingwebhookconfiguration', 'clusterwide-add-label', '-o', 'json']),
    ) as { webhooks: { clientConfig: { url?: string; caBundle: string } }[] };
    const ca = JSON.parse(
      await mustKubectl(['get', 'secret', 'castellan-ca', '-n', CASTELLAN_NAMESPACE, '-o', 'json']),
    ) as { data: Record<string, string> };
    expect(configuration.webhooks[0]?.clientConfig).toEqual({
      url: `https://127.0.0.1:${castellan.gatewayPort}/validate/clusterwide-add-label`,
      caBundle: ca.data['ca.crt'],
    });
    const manifest = pod('mutated', Namespace.Mutating);
    await untilWebhookCalled(manifest, (result) => result.stdout.includes('castellan.dev/mutated'));

    await mustKubectl(['create', '-f', '-'], manifest);
    const stored = JSON.parse(
      await mustKubectl(['get', 'pod', 'mutated', '-n', Namespace.Mutating, '-o', 'json']),
    ) as { metadata: { labels?: Record<string, string> } };
    expect(stored.metadata.labels).toEqual({ 'castellan.dev/mutated': 'true' });
  });

  it('admits what a monitor-mode policy would deny, and counts its verdict', async () => {
    await activate(
      clusterPolicy('owner-label-monitored', Namespace.Monitor, {
        module: modules.labels,
        mode: 'monitor',
        settings: { labels: ['owner'] },
      }),
      'ClusterAdmissionPolicy',
      'owner-label-monitored',
    );
    const policyName = 'clusterwide-owner-label-monitored';
    const probe = pod('probe', Namespace.Monitor);
    const before = await evaluations(policyName);
    await waitFor('the gateway to evaluate the monitored policy', async () => {
      await kubectl(['create', '--dry-run=server', '-f', '-'], probe);
      return (await evaluations(policyName)) > before;
    });

    const counted = await evaluations(policyName);
    await mustKubectl(['create', '-f', '-'], pod('unlabelled', Namespace.Monitor));
    expect(await mustKubectl(['get', 'pod', 'unlabelled', '-n', Namespace.Monitor, '-o', 'name'])).toBe(
      'pod/unlabelled\n',
    );
    expect(await evaluations(policyName)).toBe(counted + 1);
    expect(castellan.services.get('gateway')?.output()).toContain(
      'monitor mode: policy verdict not enforced',
    );
  });

  it('applies a namespaced AdmissionPolicy in its own namespace only', async () => {
    await activate(
      JSON.stringify({
        apiVersion: GROUP,
        kind: 'AdmissionPolicy',
        metadata: { name: 'owner-label', namespace: Namespace.TeamA },
        spec: {
          module: modules.labels,
          mutating: false,
          rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
          settings: { labels: ['owner'] },
        },
      }),
      'AdmissionPolicy',
      'owner-label',
      Namespace.TeamA,
    );
    const unlabelled = pod('unlabelled', Namespace.TeamA);
    await untilWebhookCalled(unlabelled, (result) => result.code !== 0);

    const refused = await kubectl(['create', '-f', '-'], unlabelled);
    expect(refused.stderr).toContain(
      `admission webhook "namespaced-${Namespace.TeamA}-owner-label.castellan.dev" denied the request: missing required labels: owner`,
    );
    await mustKubectl(
      ['create', '-f', '-'],
      pod('labelled', Namespace.TeamA, { labels: { owner: 'team-a' } }),
    );
    await mustKubectl(['create', '-f', '-'], pod('unlabelled', Namespace.TeamB));
    expect(await mustKubectl(['get', 'pods', '-n', Namespace.TeamB, '-o', 'name'])).toBe('pod/unlabelled\n');
  });

  it('says why the API server refused a webhook configuration, registers nothing for it, and the other policies go on', async () => {
    await mustKubectl(
      ['apply', '-f', '-'],
      clusterPolicy('broken-condition', Namespace.Privileged, {
        module: modules.privileged,
        matchConditions: [{ name: 'unfinished', expression: 'object.metadata.name ==' }],
      }),
    );
    const refusal = await waitFor('the policy to say why it is not active', async () => {
      const status = JSON.parse(
        await mustKubectl([
          'get',
          'clusteradmissionpolicy',
          'broken-condition',
          '-o',
          'jsonpath={.status}',
        ]).then((text) => text || '{}'),
      ) as { conditions?: { type: string; status: string; reason: string; message: string }[] };
      return status.conditions?.find((c) => c.type === 'PolicyActive' && c.reason === 'WebhookRejected');
    });
    expect(refusal.status).toBe('False');
    expect(refusal.message).toContain('the API server refused the webhook configuration');
    expect(refusal.message).toContain('webhooks[0].matchConditions[0].expression');
    expect(
      (await kubectl(['get', 'validatingwebhookconfiguration', 'clusterwide-broken-condition'])).stderr,
    ).toContain('NotFound');

    const refused = await kubectl(
      ['create', '-f', '-'],
      pod('still-privileged', Namespace.Privileged, { privileged: true }),
    );
    expect(refused.stderr).toContain(
      'admission webhook "clusterwide-privileged-pods.castellan.dev" denied the request: Privileged container is not allowed',
    );
  });

  it('answers by failure policy, well inside the webhook timeout, once every evaluator of the pool is gone', async () => {
    await Promise.all(castellan.kubelet.pods().map((evaluator) => evaluator.process.kill()));
    const started = Date.now();
    const refused = await kubectl(['create', '-f', '-'], pod('while-down', Namespace.Privileged));
    const elapsedMs = Date.now() - started;
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      'admission webhook "clusterwide-privileged-pods.castellan.dev" denied the request: policy clusterwide-privileged-pods was not evaluated: evaluator pool "default" did not answer',
    );
    // The webhook's timeout is 10 s (the CRD default): the gateway answered, not the API server's clock.
    expect(elapsedMs).toBeLessThan(10_000);
    expect((await kubectl(['get', 'pod', 'while-down', '-n', Namespace.Privileged])).code).not.toBe(0);
  });
});
