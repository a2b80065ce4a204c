import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane } from '../../../test/harness/control-plane.js';
import type { ControlPlane } from '../../../test/harness/control-plane.js';
import { ReconcilerErrorCode } from './errors.js';
import { LeaderElector } from './leader-election.js';
import type { LeaderElectionOptions } from './leader-election.js';

// Short timings: the Lease records ceil(600 ms) = 1 s, which is what a standby waits for.
const LEASE_MS = 600;
const RENEW_MS = 100;
const RECORDED_LEASE_MS = 1000;
const NAMESPACE = 'castellan';

/** As client-node reads it: it leaves MicroTimes the strings the API server sent. */
interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type StoredLease = V1Lease & { spec: LeaseSpec };

let cluster: ControlPlane;
let kubeConfig: KubeConfig;
/** The test's own client, for reading and planting Leases. */
let coordination: CoordinationV1Api;
let leaseCount = 0;
const running: LeaderElector[] = [];

/** A candidate with its callback counts. */
interface Candidate {
  elector: LeaderElector;
  started: number;
  stopped: number;
}

function candidate(
  leaseName: string,
  identity: string,
  options: Partial<LeaderElectionOptions> = {},
): Candidate {
  const elector = new LeaderElector({
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
    namespace: NAMESPACE,
    leaseName,
    identity,
    leaseDurationMs: LEASE_MS,
    renewIntervalMs: RENEW_MS,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  const counts: Candidate = { elector, started: 0, stopped: 0 };
  running.push(elector);
  elector.start({
    onStartedLeading: () => (counts.started += 1),
    onStoppedLeading: () => (counts.stopped += 1),
  });
  return counts;
}

function newLeaseName(): string {
  leaseCount += 1;
  return `castellan-reconciler-${leaseCount}`;
}

async function lease(name: string): Promise<StoredLease> {
  return (await coordination.readNamespacedLease({ name, namespace: NAMESPACE })) as StoredLease;
}

/** Writes a Lease as another holder would: creates it, or replaces `current` at its resourceVersion. */
async function writeLease(name: string, spec: LeaseSpec, current?: V1Lease): Promise<void> {
  // client-node sends MicroTime strings as they are.
  const body: V1Lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: current?.metadata ?? { name, namespace: NAMESPACE },
    spec: spec as unknown as V1LeaseSpec,
  };
  if (current) await coordination.replaceNamespacedLease({ name, namespace: NAMESPACE, body });
  else await coordination.createNamespacedLease({ namespace: NAMESPACE, body });
}

async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Samples how many candidates lead at once, every few ms, until stopped. */
function watchLeaders(candidates: Candidate[]): { most(): number; stop(): void } {
  let most = 0;
  const timer = setInterval(() => {
    most = Math.max(most, candidates.filter((c) => c.elector.isLeader).length);
  }, 2);
  return { most: () => most, stop: () => clearInterval(timer) };
}

/** The Coordination API of a candidate whose requests can be made to fail, as in a network partition. */
function partitionable(): { coordination: CoordinationV1Api; cut(): void } {
  const real = kubeConfig.makeApiClient(CoordinationV1Api);
  let cut = false;
  const coordination = new Proxy(real, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown =>
        cut
          ? Promise.reject(new Error('connect ECONNREFUSED (partitioned by the test)'))
          : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  return { coordination, cut: () => (cut = true) };
}

beforeAll(async () => {
  cluster = await startControlPlane();
  kubeConfig = cluster.kubeConfig();
  coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  await kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NAMESPACE } } });
}, 120_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((elector) => elector.stop()));
});

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

describe('leader election (real kube-apiserver)', () => {
  it('refuses a renew interval longer than half the lease duration', () => {
    expect(() => candidate('unused', 'a', { leaseDurationMs: 1000, renewIntervalMs: 600 })).toThrow(
      expect.objectContaining({ code: ReconcilerErrorCode.LeaderElectionInvalid }),
    );
  });

  it('creates the Lease and leads; a second candidate waits as a standby while it renews', async () => {
    const name = newLeaseName();
    const a = candidate(name, 'a');
    await until(() => a.elector.isLeader, 2000);
    expect(a.started).toBe(1);
    const created = (await lease(name)).spec;
    expect(created).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 1, leaseTransitions: 0 });
    // MicroTime: the API server refuses less precision, so the create above would have failed.
    expect(created.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(created.acquireTime).toBe(created.renewTime);

    const b = candidate(name, 'b');
    const leaders = watchLeaders([a, b]);
    await sleep(2 * RECORDED_LEASE_MS);
    leaders.stop();
    expect(a.elector.isLeader).toBe(true);
    expect(b.elector.isLeader).toBe(false);
    expect(b.started).toBe(0);
    expect(leaders.most()).toBe(1);
    const renewed = (await lease(name)).spec;
    expect(renewed).toMatchObject({
      holderIdentity: 'a',
      leaseTransitions: 0,
      acquireTime: created.acquireTime,
    });
    expect(Date.parse(renewed.renewTime ?? '')).toBeGreaterThan(Date.parse(created.renewTime ?? ''));
  });

  it('hands over at once when the leader stops and releases the Lease', async () => {
    const name = newLeaseName();
    const a = candidate(name, 'a');
    await until(() => a.elector.isLeader, 2000);
    const b = candidate(name, 'b');
    await sleep(3 * RENEW_MS);
    expect(b.elector.isLeader).toBe(false);

    const stopped = Date.now();
    await a.elector.stop();
    expect(a.elector.isLeader).toBe(false);
    // The caller stopped it: no onStoppedLeading.
    expect(a.stopped).toBe(0);
    await until(() => b.elector.isLeader, 1000);
    // Without the release, b would have waited for the whole recorded lease duration.
    expect(Date.now() - stopped).toBeLessThan(RECORDED_LEASE_MS / 2);
    expect((await lease(name)).spec).toMatchObject({
      holderIdentity: 'b',
      leaseDurationSeconds: 1,
      leaseTransitions: 1,
    });
  });

  it('takes over from a holder that stopped renewing only after the lease duration, observed locally', async () => {
    const name = newLeaseName();
    // A renewTime years in the past: remote timestamps are not compared with the local clock.
    const spec = {
      holderIdentity: 'crashed',
      leaseDurationSeconds: 1,
      acquireTime: '2020-01-01T00:00:00.000000Z',
      renewTime: '2020-01-01T00:00:00.000000Z',
      leaseTransitions: 3,
    };
    await writeLease(name, spec);
    const b = candidate(name, 'b');

    // While the holder keeps renewing, nobody takes over.
    let lastRenewal = Date.now();
    for (let i = 1; i <= 8; i++) {
      await sleep(250);
      const current = await lease(name);
      await writeLease(name, { ...current.spec, renewTime: `2020-01-01T00:00:0${i}.000000Z` }, current);
      lastRenewal = Date.now();
      expect(b.elector.isLeader).toBe(false);
    }

    await until(() => b.elector.isLeader, 3 * RECORDED_LEASE_MS);
    const waited = Date.now() - lastRenewal;
    expect(waited).toBeGreaterThanOrEqual(RECORDED_LEASE_MS - 50);
    expect(waited).toBeLessThan(RECORDED_LEASE_MS + 5 * RENEW_MS);
    expect((await lease(name)).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4 });
  });

  it('steps down when it cannot renew, before a standby takes over', async () => {
    const name = newLeaseName();
    const partition = partitionable();
    const a = candidate(name, 'a', { coordination: partition.coordination });
    await until(() => a.elector.isLeader, 2000);
    const b = candidate(name, 'b');
    await sleep(3 * RENEW_MS);
    const leaders = watchLeaders([a, b]);

    const cut = Date.now();
    partition.cut();
    const steppedDown = await until(() => a.stopped === 1, 2 * LEASE_MS);
    expect(a.elector.isLeader).toBe(false);
    // The renew deadline: the lease duration less one renew interval, counted from the last renewal.
    expect(steppedDown).toBeLessThanOrEqual(LEASE_MS - RENEW_MS + 50);
    await until(() => b.elector.isLeader, 3 * RECORDED_LEASE_MS);
    expect(Date.now() - cut).toBeGreaterThanOrEqual(RECORDED_LEASE_MS - 2 * RENEW_MS);
    leaders.stop();
    expect(leaders.most()).toBe(1);
    expect(b.started).toBe(1);
  });

  it.each(['absent', 'released'] as const)(
    'lets exactly one of several candidates racing for the Lease (%s) lead; losers of a write race get 409',
    async (state) => {
      const name = newLeaseName();
      if (state === 'released') {
        await writeLease(name, { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 5 });
      }
      const before = (await cluster.requests()).length;
      const candidates = ['a', 'b', 'c', 'd'].map((identity) => candidate(name, identity));
      const leaders = watchLeaders(candidates);
      await until(() => candidates.some((c) => c.elector.isLeader), 2000);
      const conflicts = (await cluster.requests())
        .slice(before)
        .filter((r) => r.path.includes(`/leases`) && r.status === 409)
        .map((r) => r.method);
      // Whether writes collide depends on scheduling; when they do, it is on the expected verb.
      for (const method of conflicts) expect(method).toBe(state === 'absent' ? 'POST' : 'PUT');

      // Hand over through every candidate; at no sample do two lead.
      for (let remaining = candidates.length; remaining > 1; remaining--) {
        const leader = candidates.find((c) => c.elector.isLeader);
        if (!leader) throw new Error('no leader');
        await sleep(2 * RENEW_MS);
        await leader.elector.stop();
        await until(() => candidates.some((c) => c.elector.isLeader), 2000);
      }
      leaders.stop();
      expect(leaders.most()).toBe(1);
      expect(candidates.reduce((sum, c) => sum + c.started, 0)).toBe(candidates.length);
      expect((await lease(name)).spec.leaseTransitions).toBe(state === 'absent' ? 3 : 5 + 4);
    },
  );
});
