// The reconciler in-process on a real nats-server, against a real kube-apiserver: a
// PolicyServer whose image is not from an allowed repository gets a condition saying so, and no
// evaluator Deployment runs that image.
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane } from '../../../test/harness/control-plane.js';
import type { ControlPlane } from '../../../test/harness/control-plane.js';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { waitFor as pollUntil } from '../../../test/harness/wait.js';
import { buildReconciler } from '../src/app.js';
import type { Reconciler } from '../src/app.js';
import { loadReconcilerConfig } from '../src/config.js';
import type { Condition } from '../src/policy-resources.js';

const NAMESPACE = 'castellan';
const GROUP = 'policies.castellan.dev/v1';
const ALLOWED_IMAGE = `ghcr.io/castellan-dev/castellan@sha256:${'ab'.repeat(32)}`;

function policyServer(name: string, image: string): KubernetesObject & { spec: object } {
  return { apiVersion: GROUP, kind: 'PolicyServer', metadata: { name }, spec: { image, replicas: 0 } };
}

describe('PolicyServer images (real kube-apiserver)', () => {
  let cluster: ControlPlane;
  let nats: NatsServer;
  let nc: NatsConnection;
  let objects: KubernetesObjectApi;
  let reconciler: Reconciler;

  beforeAll(async () => {
    cluster = await startControlPlane();
    await cluster.applyCrds();
    const kubeConfig = cluster.kubeConfig();
    await kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NAMESPACE } } });
    nats = await startNatsServer();
    nc = await nats.connect({ role: 'control' });
    objects = KubernetesObjectApi.makeApiClient(kubeConfig);
    const config = loadReconcilerConfig({
      ...(await nats.serviceEnv({ role: 'control' })),
      CASTELLAN_NATS_AUTHORITY_FILE: nats.authorityFile,
      CASTELLAN_NAMESPACE: NAMESPACE,
      CASTELLAN_READINESS_PORT: '0',
      // The allow-list is left to its default: this image's repository.
      CASTELLAN_EVALUATOR_IMAGE: 'ghcr.io/castellan-dev/castellan:test',
    });
    reconciler = buildReconciler({
      nc,
      kubeConfig,
      config,
      logger: pino({ level: 'silent' }),
      onLeadershipLost: () => undefined,
    });
    await reconciler.ready;
  }, 120_000);

  afterAll(async () => {
    await reconciler?.stop();
    await nc?.close();
    await nats?.stop();
    await cluster?.stop();
  }, 120_000);

  /** An object as the API server has it now, or undefined when it does not exist. */
  const find = <T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ) => cluster.find<T>(apiVersion, kind, name, namespace);
  const deploymentImage = async (pool: string) =>
    (
      await find<KubernetesObject & { spec: { template: { spec: { containers: { image: string }[] } } } }>(
        'apps/v1',
        'Deployment',
        `castellan-evaluator-${pool}`,
        NAMESPACE,
      )
    )?.spec.template.spec.containers[0]?.image;
  const deploymentCondition = async (name: string) =>
    (
      await find<KubernetesObject & { status?: { conditions?: Condition[] } }>(GROUP, 'PolicyServer', name)
    )?.status?.conditions?.find((condition) => condition.type === 'DeploymentReconciled');
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) =>
    pollUntil(what, probe, { timeoutMs: 20_000, intervalMs: 50 });
  const refusal = (name: string) =>
    waitFor(`PolicyServer ${name} to say its image is refused`, async () => {
      const condition = await deploymentCondition(name);
      return condition?.reason === 'ImageRefused' ? condition : undefined;
    });

  it('runs an image of an allowed repository', async () => {
    await objects.create(policyServer('allowed', ALLOWED_IMAGE));
    expect(await waitFor('the allowed Deployment', () => deploymentImage('allowed'))).toBe(ALLOWED_IMAGE);
    // The status is written once the pool's objects are: a moment after the Deployment appears.
    expect(await waitFor('its condition', () => deploymentCondition('allowed'))).toMatchObject({
      status: 'True',
      reason: 'ReconciliationSucceeded',
    });
    expect(await find('v1', 'Secret', 'castellan-nats-creds-evaluator-allowed', NAMESPACE)).toBeDefined();
  });

  it('creates no Deployment for an image whose name only ends like an allowed repository', async () => {
    const image = 'evil.io/ghcr.io/castellan-dev/castellan:v1';
    await objects.create(policyServer('foreign', image));
    const condition = await refusal('foreign');
    expect(condition).toMatchObject({
      status: 'False',
      message:
        `spec.image "${image}" is refused: its repository evil.io/ghcr.io/castellan-dev/castellan is not in ` +
        "the reconciler's allow-list (ghcr.io/castellan-dev/castellan). Name an image of an allowed " +
        'repository, or add evil.io/ghcr.io/castellan-dev/castellan to ' +
        'CASTELLAN_RECONCILER_ALLOWED_IMAGE_REPOSITORIES on the reconciler. Until then the evaluator ' +
        'Deployment is neither created nor changed.',
    });
    expect(await deploymentImage('foreign')).toBeUndefined();
    // Nothing would run with them: no credentials are minted for a refused pool.
    expect(await find('v1', 'Secret', 'castellan-nats-creds-evaluator-foreign', NAMESPACE)).toBeUndefined();
  });

  it('leaves the Deployment as it is when a PolicyServer changes to a refused image', async () => {
    const current = await objects.read(policyServer('allowed', ALLOWED_IMAGE) as never);
    await objects.replace({
      ...current,
      spec: { image: 'ghcr.io/castellan-dev/castellan-evil:v1', replicas: 0 },
    } as KubernetesObject);
    const condition = await refusal('allowed');
    expect(condition.message).toContain('its repository ghcr.io/castellan-dev/castellan-evil is not in');
    expect(await deploymentImage('allowed')).toBe(ALLOWED_IMAGE);
  });
});
