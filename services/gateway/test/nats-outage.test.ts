import { performance } from 'node:perf_hooks';
import {
  decodeEvaluationRequest,
  encodeEvaluationReply,
  poolEvaluationSubjects,
  poolQueueGroup,
} from '@castellan/proto';
import { NatsLink } from '@castellan/service-host';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podRequest } from '../../../test/fixtures/index.js';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { NatsDispatcher } from '../src/nats-dispatcher.js';
import { getPlain, http1, http2, parseJson } from './clients.js';
import type { Answer, Review, TlsClientOptions } from './clients.js';
import { eventually } from './eventually.js';
import { startGateway } from './gateway-fixture.js';
import type { RunningGateway } from './gateway-fixture.js';
import { policyRoute, routeTable } from './in-process-pool.js';

const POOL = 'tenant-a';
const DOWN_GRACE_MS = 1_000;
/** `?timeout=10s` and 10 s policies: the gateway would wait 9 s for a reply. */
const QUERY = '?timeout=10s';
/** Well under that budget: the answer did not wait for a reply. */
const AT_ONCE_MS = 2_000;

const routes = routeTable(
  policyRoute('fail-policy', { pool: POOL, timeoutSeconds: 10 }),
  policyRoute('ignore-policy', { pool: POOL, timeoutSeconds: 10, failurePolicy: 'Ignore' }),
  policyRoute('slow-policy', { pool: POOL, timeoutSeconds: 10 }),
  policyRoute('stray-policy', { pool: POOL, timeoutSeconds: 10, failurePolicy: 'Ignore' }),
);

const NOT_CONNECTED = 'the gateway is not connected to NATS';

describe('gateway while its NATS connection is down, against a real nats-server', () => {
  let nats: NatsServer;
  let gatewayNc: NatsConnection;
  let evaluatorNc: NatsConnection;
  let gateway: RunningGateway;
  let tls: TlsClientOptions;
  /** uids of the requests the stand-in evaluator received. */
  const received: string[] = [];
  let killedAt = 0;

  beforeAll(async () => {
    nats = await startNatsServer();
    const reconnect = { maxReconnectAttempts: -1, reconnectTimeWait: 100 };
    [gatewayNc, evaluatorNc] = await Promise.all([
      nats.connect({ role: 'gateway' }, reconnect),
      nats.connect({ role: 'evaluator', pool: POOL }, reconnect),
    ]);
    // An evaluator of the pool that denies with its own message, never answers slow-policy, and
    // answers stray-policy with the verdict of another request.
    evaluatorNc.subscribe(poolEvaluationSubjects(POOL), {
      queue: poolQueueGroup(POOL),
      callback: (error, message) => {
        if (error) return;
        const request = decodeEvaluationRequest(message.data);
        received.push(request.uid);
        if (request.policyId === 'slow-policy') return;
        message.respond(
          encodeEvaluationReply({
            ok: true,
            response: {
              uid: request.policyId === 'stray-policy' ? 'another-request' : request.uid,
              allowed: false,
              status: { message: `${request.policyId}: denied by the pool`, code: 403 },
            },
          }),
        );
      },
    });
    const link = new NatsLink(gatewayNc);
    gateway = await startGateway({
      routes,
      dispatcher: new NatsDispatcher(gatewayNc, routes, link),
      isReady: () => link.ready(DOWN_GRACE_MS),
      env: await nats.serviceEnv({ role: 'gateway' }),
    });
    tls = { ca: gateway.certificates.caPem };
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([gatewayNc?.close(), evaluatorNc?.close()]);
    await nats?.stop();
  });

  const body = (uid: string): string => JSON.stringify({ request: podRequest({ uid }) });
  const readiness = async (): Promise<number> => (await getPlain(gateway.readinessUrl('/readiness'))).status;

  async function timed(answer: Promise<Answer>): Promise<{ review: Review; elapsedMs: number }> {
    const started = performance.now();
    const reply = await answer;
    const elapsedMs = performance.now() - started;
    expect(reply.status).toBe(200);
    return { review: parseJson(reply) as Review, elapsedMs };
  }

  const expectPoolVerdict = (review: Review, uid: string, policyId: string): void =>
    expect(review.response).toEqual({
      uid,
      allowed: false,
      status: { message: `${policyId}: denied by the pool`, code: 403 },
      auditAnnotations: null,
      warnings: null,
    });

  it('answers with the pool verdicts while NATS is up', async () => {
    const { review } = await timed(
      http1(gateway.url(`/validate/ignore-policy${QUERY}`), tls, { body: body('up-1') }),
    );
    expectPoolVerdict(review, 'up-1', 'ignore-policy');
    expect(await readiness()).toBe(200);
  });

  it('refuses a verdict given for another request, and answers by failure policy', async () => {
    const { review } = await timed(
      http1(gateway.url(`/validate/stray-policy${QUERY}`), tls, { body: body('stray-1') }),
    );
    expect(review.response).toEqual({
      uid: 'stray-1',
      allowed: true,
      auditAnnotations: null,
      warnings: [
        `castellan: policy stray-policy was not evaluated: pool "${POOL}" did not answer (the reply is a verdict for request another-request, not this one); allowed by failurePolicy Ignore`,
      ],
    });
  });

  it('answers a request in flight by failure policy as soon as the connection drops', async () => {
    const inFlight = timed(
      http2(gateway.url(`/validate/slow-policy${QUERY}`), tls, { body: body('in-flight') }),
    );
    await eventually(() => received.includes('in-flight'));
    killedAt = performance.now();
    await nats.kill();
    const { review } = await inFlight;
    expect(performance.now() - killedAt).toBeLessThan(AT_ONCE_MS);
    expect(review.response).toEqual({
      uid: 'in-flight',
      allowed: false,
      status: {
        message: `policy slow-policy was not evaluated: evaluator pool "${POOL}" did not answer (${NOT_CONNECTED})`,
        code: 500,
      },
      auditAnnotations: null,
      warnings: null,
    });
  });

  it('answers new requests by failure policy at once while NATS is down', async () => {
    const ignored = await timed(
      http1(gateway.url(`/validate/ignore-policy${QUERY}`), tls, { body: body('down-ignore') }),
    );
    expect(ignored.elapsedMs).toBeLessThan(AT_ONCE_MS);
    expect(ignored.review.response).toEqual({
      uid: 'down-ignore',
      allowed: true,
      auditAnnotations: null,
      warnings: [
        `castellan: policy ignore-policy was not evaluated: pool "${POOL}" did not answer (${NOT_CONNECTED}); allowed by failurePolicy Ignore`,
      ],
    });
    const failed = await timed(
      http2(gateway.url(`/validate/fail-policy${QUERY}`), tls, { body: body('down-fail') }),
    );
    expect(failed.elapsedMs).toBeLessThan(AT_ONCE_MS);
    expect(failed.review.response.uid).toBe('down-fail');
    expect(failed.review.response.allowed).toBe(false);
    expect(failed.review.response.status).toEqual({
      message: `policy fail-policy was not evaluated: evaluator pool "${POOL}" did not answer (${NOT_CONNECTED})`,
      code: 500,
    });
  });

  it('reports not ready once NATS has stayed down past the grace', async () => {
    await eventually(async () => (await readiness()) === 503);
    expect(performance.now() - killedAt).toBeGreaterThanOrEqual(DOWN_GRACE_MS);
  });

  it('is ready, and evaluates, again once NATS is back', async () => {
    await nats.restart();
    await eventually(async () => (await readiness()) === 200, 15_000);
    // The stand-in evaluator reconnects on its own schedule: until then, no responders.
    let review: Review | undefined;
    await eventually(async () => {
      review = (await timed(http1(gateway.url(`/validate/fail-policy${QUERY}`), tls, { body: body('back') })))
        .review;
      return review.response.status?.code === 403;
    }, 15_000);
    expectPoolVerdict(review as Review, 'back', 'fail-policy');
  });
});
