import { Bucket, encodePolicyConfig, policyKey } from '@castellan/proto';
import type { EvaluatorStatus, PolicyConfig } from '@castellan/proto';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluatorStatusWriter } from '../../../test/harness/evaluator-statuses.js';
import type { EvaluatorStatusWriter } from '../../../test/harness/evaluator-statuses.js';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { RouteTable } from '../src/route-table.js';

const config = (policyId: string, overrides: Partial<PolicyConfig> = {}): PolicyConfig => ({
  policyId,
  pool: 'default',
  module: { url: 'file:///p.wasm', sha256: 'a'.repeat(64) },
  settings: {},
  policyMode: 'protect',
  allowedToMutate: false,
  timeoutSeconds: 2,
  failurePolicy: 'Fail',
  contextAwareResources: [],
  ...overrides,
});

describe('RouteTable against a real nats-server', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let control: NatsConnection;
  let policies: KV;
  let statuses: EvaluatorStatusWriter;
  let table: RouteTable;
  let clock = 1_000_000;

  const report = (
    evaluatorId: string,
    loaded: Record<string, number>,
    extra: Partial<EvaluatorStatus> = {},
  ) =>
    statuses.put({
      evaluatorId,
      pool: 'default',
      heartbeat: clock,
      heartbeatIntervalMs: 1000,
      loaded,
      failed: {},
      draining: false,
      ...extra,
    });
  /** KV watch delivery is asynchronous: poll until the table agrees. */
  const eventually = async (check: () => void) => {
    for (let attempt = 0; ; attempt++) {
      try {
        check();
        return;
      } catch (error) {
        if (attempt > 100) throw error;
        await sleep(20);
      }
    }
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    // The gateway reads the routes; the control plane writes policies, evaluators their statuses.
    [nc, control] = await Promise.all([nats.connect({ role: 'gateway' }), nats.connect({ role: 'control' })]);
    const kvm = new Kvm(control);
    [policies] = await Promise.all([kvm.create(Bucket.Policies), kvm.create(Bucket.Evaluators)]);
    statuses = evaluatorStatusWriter(nats);
    table = await RouteTable.start(nc, pino({ level: 'silent' }), { replicas: 1, now: () => clock });
  });

  afterAll(async () => {
    table?.stop();
    await Promise.all([nc?.close(), control?.close(), statuses?.close()]);
    await nats?.stop();
  });

  it('knows no route for a policy that is not in the KV', () => {
    expect(table.get('absent')).toBeUndefined();
  });

  it('routes a policy no evaluator reports yet to revision 0, and is not ready', async () => {
    await policies.put(policyKey('default', 'fresh'), encodePolicyConfig(config('fresh')));
    await eventually(() => expect(table.get('fresh')?.revision).toBe(0));
    expect(table.allPoliciesServed()).toBe(false);
  });

  it('routes to the oldest revision a live evaluator reports, with that revision own config', async () => {
    const r1 = await policies.put(
      policyKey('default', 'p'),
      encodePolicyConfig(config('p', { policyMode: 'monitor' })),
    );
    const r2 = await policies.put(
      policyKey('default', 'p'),
      encodePolicyConfig(config('p', { policyMode: 'protect' })),
    );
    await report('e1', { p: r2 });
    await report('e2', { p: r1 });
    await eventually(() =>
      expect(table.get('p')).toMatchObject({ revision: r1, policyMode: 'monitor', pool: 'default' }),
    );
    await report('e2', { p: r2 });
    await eventually(() => expect(table.get('p')).toMatchObject({ revision: r2, policyMode: 'protect' }));
  });

  it('stops counting on an evaluator that missed three heartbeats, or drains', async () => {
    const r1 = await policies.put(policyKey('default', 'q'), encodePolicyConfig(config('q')));
    const r2 = await policies.put(
      policyKey('default', 'q'),
      encodePolicyConfig(config('q', { timeoutSeconds: 5 })),
    );
    await report('e3', { q: r1 });
    await report('e4', { q: r2 });
    await eventually(() => expect(table.get('q')?.revision).toBe(r1));
    clock += 3500;
    await report('e4', { q: r2 });
    await eventually(() => expect(table.get('q')).toMatchObject({ revision: r2, timeoutSeconds: 5 }));
    await report('e4', { q: r2 }, { draining: true });
    // Every evaluator silent or draining: the last revision a non-draining one reported.
    await eventually(() => expect(table.get('q')?.revision).toBe(r1));
  });

  it('forgets a deleted policy', async () => {
    await policies.put(policyKey('default', 'gone'), encodePolicyConfig(config('gone')));
    await eventually(() => expect(table.get('gone')).toBeDefined());
    await policies.delete(policyKey('default', 'gone'));
    await eventually(() => expect(table.get('gone')).toBeUndefined());
  });
});
