import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podRequest } from '../../../test/fixtures/index.js';
import { getPlain, http1, http2, parseJson } from './clients.js';
import type { Review, TlsClientOptions } from './clients.js';
import { startGateway } from './gateway-fixture.js';
import type { RunningGateway } from './gateway-fixture.js';
import { InProcessEvaluatorPool, policyRoute, routeTable } from './in-process-pool.js';

const slow = { kind: 'policy', validate: () => ({ accepted: true }), delayMs: 5_000 } as const;
const pool = new InProcessEvaluatorPool()
  .set('slow-fail', slow)
  .set('slow-ignore', slow)
  .set('slow-monitor', slow)
  .set('down-fail', { kind: 'unavailable', reason: 'no responders' })
  .set('down-ignore', { kind: 'unavailable', reason: 'no responders' })
  .set('broken', { kind: 'throws', message: 'connection closed' })
  .set('silent', { kind: 'silent' });

const routes = routeTable(
  policyRoute('slow-fail', { pool: 'tenant-a', timeoutSeconds: 10 }),
  policyRoute('slow-ignore', { pool: 'tenant-a', timeoutSeconds: 10, failurePolicy: 'Ignore' }),
  policyRoute('slow-monitor', { pool: 'tenant-a', timeoutSeconds: 10, policyMode: 'monitor' }),
  policyRoute('down-fail', { pool: 'tenant-b' }),
  policyRoute('down-ignore', { pool: 'tenant-b', failurePolicy: 'Ignore' }),
  policyRoute('broken', { pool: 'tenant-c' }),
  policyRoute('silent', { pool: 'tenant-d', timeoutSeconds: 1 }),
);

let gateway: RunningGateway;
let tls: TlsClientOptions;

beforeAll(async () => {
  gateway = await startGateway({ routes, dispatcher: pool });
  tls = { ca: gateway.certificates.caPem };
});

afterAll(async () => {
  await gateway?.close();
});

async function timed(path: string, uid: string): Promise<{ answer: Review; elapsedMs: number }> {
  const started = performance.now();
  const reply = await http1(gateway.url(path), tls, {
    body: JSON.stringify({ request: podRequest({ uid }) }),
  });
  const elapsedMs = performance.now() - started;
  expect(reply.status).toBe(200);
  return { answer: parseJson(reply) as Review, elapsedMs };
}

describe('gateway failure policy, with an in-process evaluator pool standing in for NATS', () => {
  it('answers Fail well before the apiserver gives up on ?timeout=1s', async () => {
    const { answer, elapsedMs } = await timed('/validate/slow-fail?timeout=1s', 'slow-1');
    expect(elapsedMs).toBeGreaterThanOrEqual(700);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(answer.response.uid).toBe('slow-1');
    expect(answer.response.allowed).toBe(false);
    expect(answer.response.status).toEqual({
      message:
        'policy slow-fail was not evaluated: evaluator pool "tenant-a" did not answer (no reply within 750 ms)',
      code: 500,
    });
  });

  it('answers Ignore with an admission and a warning', async () => {
    const { answer, elapsedMs } = await timed('/validate/slow-ignore?timeout=1s', 'slow-2');
    expect(elapsedMs).toBeLessThan(1_000);
    expect(answer.response).toEqual({
      uid: 'slow-2',
      allowed: true,
      auditAnnotations: null,
      warnings: [
        'castellan: policy slow-ignore was not evaluated: pool "tenant-a" did not answer (no reply within 750 ms); allowed by failurePolicy Ignore',
      ],
    });
  });

  it('admits a monitor-mode policy whose pool did not answer, even under Fail', async () => {
    const { answer } = await timed('/validate/slow-monitor?timeout=1s', 'slow-3');
    expect(answer.response.allowed).toBe(true);
    expect(answer.response.status).toBeUndefined();
  });

  it('answers at once when the pool is unavailable', async () => {
    const failed = await timed('/validate/down-fail?timeout=10s', 'down-1');
    expect(failed.elapsedMs).toBeLessThan(500);
    expect(failed.answer.response.status?.message).toBe(
      'policy down-fail was not evaluated: evaluator pool "tenant-b" did not answer (no responders)',
    );
    const ignored = await timed('/validate/down-ignore?timeout=10s', 'down-2');
    expect(ignored.answer.response.allowed).toBe(true);
    expect(ignored.answer.response.warnings?.[0]).toContain('allowed by failurePolicy Ignore');
  });

  it('treats a dispatcher that throws as an unavailable pool', async () => {
    const { answer } = await timed('/validate/broken', 'broken-1');
    expect(answer.response.uid).toBe('broken-1');
    expect(answer.response.allowed).toBe(false);
    expect(answer.response.status?.message).toContain('(connection closed)');
  });

  it("bounds the wait by the policy's timeout plus grace when the apiserver waits longer", async () => {
    const { answer, elapsedMs } = await timed('/validate/silent?timeout=10s', 'silent-1');
    expect(elapsedMs).toBeGreaterThanOrEqual(1_450);
    expect(elapsedMs).toBeLessThan(2_000);
    expect(answer.response.status?.message).toContain('no reply within 1500 ms');
  });

  it('answers /audit by failure policy too, unprocessed', async () => {
    const reply = await http2(gateway.url('/audit/slow-monitor?timeout=1s'), tls, {
      body: JSON.stringify({ request: podRequest({ uid: 'audit-1' }) }),
    });
    const answer = parseJson(reply) as Review;
    expect(answer.response.allowed).toBe(false);
    expect(answer.response.status?.code).toBe(500);
  });

  it('counts the failure-policy answers', async () => {
    const metrics = await getPlain(gateway.readinessUrl('/metrics'));
    expect(metrics.text).toContain(
      'castellan_gateway_failure_policy_answers_total{policy_name="slow-fail",pool="tenant-a",failure_policy="Fail"} 1',
    );
    expect(metrics.text).toContain(
      'castellan_gateway_failure_policy_answers_total{policy_name="down-ignore",pool="tenant-b",failure_policy="Ignore"} 1',
    );
  });
});
