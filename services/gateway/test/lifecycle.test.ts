import { Agent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podRequest } from '../../../test/fixtures/index.js';
import { getPlain, http1, http2 } from './clients.js';
import type { TlsClientOptions } from './clients.js';
import { startGateway } from './gateway-fixture.js';
import type { RunningGateway } from './gateway-fixture.js';
import { InProcessEvaluatorPool, policyRoute, routeTable } from './in-process-pool.js';

const pool = new InProcessEvaluatorPool()
  .set('deny-all', { kind: 'policy', validate: () => ({ accepted: false, message: 'no', code: 403 }) })
  .set('slow', { kind: 'policy', validate: () => ({ accepted: true }), delayMs: 400 });
const routes = routeTable(policyRoute('deny-all', { policyMode: 'monitor' }), policyRoute('slow'));
const body = (uid: string): string => JSON.stringify({ request: podRequest({ uid }) });

describe('gateway readiness, metrics and shutdown, with an in-process evaluator pool standing in for NATS', () => {
  describe('readiness and metrics', () => {
    let gateway: RunningGateway;
    let tls: TlsClientOptions;
    let kvReplicated = false;

    beforeAll(async () => {
      gateway = await startGateway({ routes, dispatcher: pool, isReady: () => kvReplicated });
      tls = { ca: gateway.certificates.caPem };
    });

    afterAll(async () => {
      await gateway?.close();
    });

    it('is not ready until the injected check passes, then answers 200 with an empty body', async () => {
      expect(await getPlain(gateway.readinessUrl('/readiness'))).toEqual({ status: 503, text: '' });
      kvReplicated = true;
      expect(await getPlain(gateway.readinessUrl('/readiness'))).toEqual({ status: 200, text: '' });
    });

    it('answers 404 for other paths on the readiness port', async () => {
      expect((await getPlain(gateway.readinessUrl('/healthz'))).status).toBe(404);
    });

    it('exposes the evaluation and HTTP counters in Prometheus text', async () => {
      await http1(gateway.url('/validate/deny-all?timeout=10s'), tls, { body: body('metrics-1') });
      await http1(gateway.url('/audit/deny-all'), tls, { body: body('metrics-2') });
      await http1(gateway.url('/validate/unknown'), tls, { body: body('metrics-3') });
      await http1(gateway.url('/nowhere'), tls, { body: '{}' });
      const { status, text } = await getPlain(gateway.readinessUrl('/metrics'));
      expect(status).toBe(200);
      // Monitor mode admitted the request, but the metric records the policy's own verdict.
      expect(text).toContain(
        'castellan_policy_evaluations_total{policy_name="deny-all",policy_mode="monitor",resource_kind="Pod",resource_request_operation="CREATE",accepted="false",mutated="false",request_origin="validate",error_code="403"} 1',
      );
      expect(text).toContain('request_origin="audit"');
      expect(text).toMatch(
        /castellan_policy_evaluation_latency_milliseconds_bucket\{le="1",policy_name="deny-all"/,
      );
      expect(text).toContain('castellan_gateway_http_requests_total{route="validate",status="200"} 1');
      expect(text).toContain('castellan_gateway_http_requests_total{route="validate",status="404"} 1');
      expect(text).toContain('castellan_gateway_http_requests_total{route="unmatched",status="404"} 1');
      expect(text).not.toContain('unknown');
      expect(text).not.toContain('namespace');
    });
  });

  describe('bind addresses', () => {
    it('binds /readiness and /metrics where CASTELLAN_READINESS_ADDRESS says, apart from the webhooks', async () => {
      const gateway = await startGateway({
        routes,
        dispatcher: pool,
        env: { CASTELLAN_GATEWAY_ADDRESS: '0.0.0.0', CASTELLAN_READINESS_ADDRESS: '127.0.0.1' },
      });
      try {
        expect(gateway.bound.address).toBe('0.0.0.0');
        expect(gateway.bound.readinessAddress).toBe('127.0.0.1');
        expect(await getPlain(gateway.readinessUrl('/readiness'))).toEqual({ status: 200, text: '' });
      } finally {
        await gateway.close();
      }
    });
  });

  describe('close', () => {
    it('lets in-flight requests finish over HTTP/1.1 and HTTP/2, then refuses connections', async () => {
      const gateway = await startGateway({ routes, dispatcher: pool });
      const tls = { ca: gateway.certificates.caPem };
      const inFlight = [
        http1(gateway.url('/validate/slow'), tls, { body: body('closing-1') }),
        http2(gateway.url('/validate/slow'), tls, { body: body('closing-2') }),
      ];
      await sleep(100);
      const closing = gateway.close();
      const answers = await Promise.all(inFlight);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
      await closing;
      await expect(http1(gateway.url('/validate/slow'), tls, { body: body('late') })).rejects.toThrow(
        /ECONNREFUSED/,
      );
      await expect(getPlain(gateway.readinessUrl('/readiness'))).rejects.toThrow(/ECONNREFUSED/);
    });

    it('does not wait for idle keep-alive connections', async () => {
      const gateway = await startGateway({ routes, dispatcher: pool });
      const agent = new Agent({ keepAlive: true, ca: gateway.certificates.caPem });
      const answer = await http1(
        gateway.url('/validate/deny-all'),
        { ca: [] },
        { body: body('idle'), agent },
      );
      expect(answer.status).toBe(200);
      const started = performance.now();
      await gateway.close();
      expect(performance.now() - started).toBeLessThan(1_000);
      agent.destroy();
    });
  });
});
