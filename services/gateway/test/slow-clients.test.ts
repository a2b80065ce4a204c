import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podRequest } from '../../../test/fixtures/index.js';
import { http1, http2, parseJson } from './clients.js';
import type { Answer, TlsClientOptions } from './clients.js';
import { eventually } from './eventually.js';
import { heldRequestBodyBytes, startGateway } from './gateway-fixture.js';
import type { RunningGateway } from './gateway-fixture.js';
import { InProcessEvaluatorPool, policyRoute, routeTable } from './in-process-pool.js';

const REQUEST_TIMEOUT_MS = 1_000;
/** The bound plus how late Node's HTTP/1.1 header check and an answer on a busy machine may come. */
const CUT_OFF_BY_MS = REQUEST_TIMEOUT_MS + 1_500;

const pool = new InProcessEvaluatorPool().set('allow-all', {
  kind: 'policy',
  validate: () => ({ accepted: true }),
});

let gateway: RunningGateway;
let tls: TlsClientOptions;

beforeAll(async () => {
  gateway = await startGateway({
    routes: routeTable(policyRoute('allow-all')),
    dispatcher: pool,
    env: { CASTELLAN_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) },
  });
  tls = { ca: gateway.certificates.caPem };
});

afterAll(async () => {
  await gateway?.close();
});

/** One byte every 200 ms: a client that would keep the request open for 10 s. */
async function* oneBytePer200ms(): AsyncGenerator<Buffer> {
  for (let sent = 0; sent < 50; sent++) {
    await sleep(200);
    yield Buffer.from(' ');
  }
}

function expectTimedOut(answer: Answer): void {
  expect(answer.status).toBe(408);
  expect(answer.headers['content-type']).toBe('application/json');
  expect(parseJson(answer)).toEqual({
    message: `the request body did not arrive within ${REQUEST_TIMEOUT_MS} ms (CASTELLAN_REQUEST_TIMEOUT_MS)`,
    status: 408,
  });
}

describe('gateway against slow clients, with an in-process evaluator pool standing in for NATS', () => {
  it('answers 408 to an HTTP/2 stream whose body trickles, within the bound, and lets its bytes go', async () => {
    const started = performance.now();
    const answer = await http2(gateway.url('/validate/allow-all'), tls, {
      // The declared length is leased at once: the metric shows whether the lease is given back.
      headers: { 'content-type': 'application/json', 'content-length': '100' },
      body: oneBytePer200ms(),
    });
    const elapsed = performance.now() - started;
    expectTimedOut(answer);
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
    expect(elapsed).toBeLessThan(CUT_OFF_BY_MS);
    await eventually(async () => (await heldRequestBodyBytes(gateway)) === 0);
  });

  it('answers 408 to an HTTP/1.1 request whose body trickles, and closes the connection', async () => {
    const started = performance.now();
    const answer = await http1(gateway.url('/validate/allow-all'), tls, { body: oneBytePer200ms() });
    const elapsed = performance.now() - started;
    expectTimedOut(answer);
    expect(answer.headers.connection).toBe('close');
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
    expect(elapsed).toBeLessThan(CUT_OFF_BY_MS);
    await eventually(async () => (await heldRequestBodyBytes(gateway)) === 0);
  });

  it('answers 408 and closes an HTTP/1.1 connection whose headers trickle', async () => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: gateway.port,
      ca: gateway.certificates.caPem,
      ALPNProtocols: ['http/1.1'],
    });
    socket.on('error', () => undefined);
    await once(socket, 'secureConnect');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const started = performance.now();
    socket.write('POST /validate/allow-all HTTP/1.1\r\nhost: 127.0.0.1\r\n');
    const trickle = setInterval(() => socket.write('x-slow: 1\r\n'), 200);
    await once(socket, 'close');
    const elapsed = performance.now() - started;
    clearInterval(trickle);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
    expect(elapsed).toBeLessThan(CUT_OFF_BY_MS);
  });

  it('still answers a client that sends its request at once', async () => {
    const body = JSON.stringify({ request: podRequest({ uid: 'prompt' }) });
    const answer = await http2(gateway.url('/validate/allow-all'), tls, { body });
    expect(answer.status).toBe(200);
    expect(parseJson(answer)).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'prompt', allowed: true, auditAnnotations: null, warnings: null },
    });
  });
});
