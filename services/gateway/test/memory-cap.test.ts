import { connect } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podRequest } from '../../../test/fixtures/index.js';
import { http1, http2, parseJson } from './clients.js';
import type { Answer, TlsClientOptions } from './clients.js';
import { eventually } from './eventually.js';
import { heldRequestBodyBytes, startGateway } from './gateway-fixture.js';
import type { RunningGateway } from './gateway-fixture.js';
import { InProcessEvaluatorPool, policyRoute, routeTable } from './in-process-pool.js';
import type { EvaluationCall, EvaluationDispatcher, EvaluationOutcome } from '../src/index.js';

/** Large reviews, just under the API server's 3 MiB; the cap holds two of them. */
const REVIEW_BYTES = 2_900_000;
const CAP_BYTES = 2 * REVIEW_BYTES + 100_000;

const pool = new InProcessEvaluatorPool().set('deny-privileged', {
  kind: 'policy',
  validate: (request) =>
    (request as { object?: { metadata?: { labels?: Record<string, string> } } }).object?.metadata?.labels
      ?.privileged === 'true'
      ? { accepted: false, message: 'privileged pods are not allowed', code: 403 }
      : { accepted: true },
});

/** Holds every evaluation until `open()`: the bodies of the requests it holds stay leased. */
class GatedDispatcher implements EvaluationDispatcher {
  readonly arrived: string[] = [];
  private release: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));

  async evaluate(call: EvaluationCall): Promise<EvaluationOutcome> {
    this.arrived.push(call.uid);
    await this.gate;
    return pool.evaluate(call);
  }

  open(): void {
    this.release();
  }
}

const dispatcher = new GatedDispatcher();
let gateway: RunningGateway;
let tls: TlsClientOptions;

beforeAll(async () => {
  gateway = await startGateway({
    routes: routeTable(policyRoute('deny-privileged')),
    dispatcher,
    env: { CASTELLAN_MAX_REQUEST_BYTES_IN_FLIGHT: String(CAP_BYTES) },
  });
  tls = { ca: gateway.certificates.caPem };
});

afterAll(async () => {
  await gateway?.close();
});

function largeReview(uid: string, labels: Record<string, string> = {}): string {
  const review = JSON.stringify({ request: podRequest({ uid, labels }) });
  return review.padEnd(REVIEW_BYTES, ' ');
}

function inChunks(text: string): Buffer[] {
  const bytes = Buffer.from(text);
  const size = 64 * 1024;
  return Array.from({ length: Math.ceil(bytes.length / size) }, (_, index) =>
    bytes.subarray(index * size, (index + 1) * size),
  );
}

const declaredLength = { 'content-type': 'application/json', 'content-length': String(REVIEW_BYTES) };
const path = '/validate/deny-privileged?timeout=10s';

function expectOverCapacity(answer: Answer): void {
  expect(answer.status).toBe(503);
  expect(answer.headers['content-type']).toBe('application/json');
  expect(parseJson(answer)).toEqual({
    message: `this body would take the request bodies the gateway holds past its cap of ${CAP_BYTES} bytes (CASTELLAN_MAX_REQUEST_BYTES_IN_FLIGHT): try again`,
    status: 503,
  });
}

describe('gateway memory cap on request bodies in flight, with an in-process evaluator pool standing in for NATS', () => {
  it('answers 503 to the bodies past the cap, the verdicts to the others, then accepts again', async () => {
    const first = http1(gateway.url(path), tls, { body: largeReview('held-1', { privileged: 'true' }) });
    const second = http2(gateway.url(path), tls, { headers: declaredLength, body: largeReview('held-2') });
    await eventually(() => dispatcher.arrived.length === 2);
    expect(await heldRequestBodyBytes(gateway)).toBe(2 * REVIEW_BYTES);

    const refused = await Promise.all([
      // Declared lengths are refused before a byte is read, streamed bodies once they pass the cap.
      http1(gateway.url(path), tls, { body: largeReview('over-1') }),
      http2(gateway.url(path), tls, { headers: declaredLength, body: largeReview('over-2') }),
      http2(gateway.url(path), tls, { body: inChunks(largeReview('over-3')) }),
      http1(gateway.url(path), tls, { body: inChunks(largeReview('over-4')) }),
    ]);
    refused.forEach(expectOverCapacity);
    expect(dispatcher.arrived.sort()).toEqual(['held-1', 'held-2']);

    dispatcher.open();
    const [denied, allowed] = await Promise.all([first, second]);
    expect(denied.status).toBe(200);
    expect(parseJson(denied)).toMatchObject({
      response: {
        uid: 'held-1',
        allowed: false,
        status: { message: 'privileged pods are not allowed', code: 403 },
      },
    });
    expect(allowed.status).toBe(200);
    expect(parseJson(allowed)).toMatchObject({ response: { uid: 'held-2', allowed: true } });

    await eventually(async () => (await heldRequestBodyBytes(gateway)) === 0);
    const again = await Promise.all([
      http2(gateway.url(path), tls, { headers: declaredLength, body: largeReview('again-1') }),
      http1(gateway.url(path), tls, { body: inChunks(largeReview('again-2', { privileged: 'true' })) }),
    ]);
    expect(again.map((answer) => answer.status)).toEqual([200, 200]);
    expect(again.map((answer) => parseJson(answer))).toMatchObject([
      { response: { uid: 'again-1', allowed: true } },
      { response: { uid: 'again-2', allowed: false, status: { code: 403 } } },
    ]);
  });

  it('gives back the bytes of a request its client abandons half-way', async () => {
    const session = connect(new URL(gateway.url('/')).origin, { ca: gateway.certificates.caPem });
    session.on('error', () => undefined);
    const stream = session.request({ ':method': 'POST', ':path': path, ...declaredLength });
    stream.on('error', () => undefined);
    stream.write(largeReview('abandoned').slice(0, REVIEW_BYTES / 2));
    await eventually(async () => (await heldRequestBodyBytes(gateway)) === REVIEW_BYTES);
    session.destroy();
    await eventually(async () => (await heldRequestBodyBytes(gateway)) === 0);
  });
});
