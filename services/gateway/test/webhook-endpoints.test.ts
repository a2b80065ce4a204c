import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podRequest } from '../../../test/fixtures/index.js';
import { http1, http2, parseJson } from './clients.js';
import type { Answer, Review, TlsClientOptions } from './clients.js';
import { startGateway } from './gateway-fixture.js';
import type { RunningGateway } from './gateway-fixture.js';
import { InProcessEvaluatorPool, policyRoute, routeTable } from './in-process-pool.js';

const denyPrivileged = (request: unknown) => {
  const labels = (request as { object?: { metadata?: { labels?: Record<string, string> } } }).object?.metadata
    ?.labels;
  return labels?.privileged === 'true'
    ? { accepted: false, message: 'privileged pods are not allowed', code: 403, warnings: ['checked'] }
    : { accepted: true };
};
const addLabel = (request: unknown) => {
  const object = structuredClone(
    (request as { object: { metadata: { labels?: Record<string, string> } } }).object,
  );
  object.metadata.labels = { ...object.metadata.labels, owner: 'castellan' };
  return { accepted: true, mutated_object: object };
};

const pool = new InProcessEvaluatorPool()
  .set('deny-privileged', { kind: 'policy', validate: denyPrivileged })
  .set('monitored', { kind: 'policy', validate: denyPrivileged })
  .set('custom-message', { kind: 'policy', validate: denyPrivileged })
  .set('mutator', { kind: 'policy', validate: addLabel })
  .set('mutator-allowed', { kind: 'policy', validate: addLabel })
  .set('raw-policy', {
    kind: 'policy',
    validate: (request) =>
      (request as { user?: string }).user === 'alice'
        ? { accepted: true }
        : { accepted: false, message: 'only alice' },
  });

const routes = routeTable(
  policyRoute('deny-privileged'),
  policyRoute('monitored', { policyMode: 'monitor' }),
  policyRoute('custom-message', { customMessage: 'Contact the platform team' }),
  policyRoute('mutator'),
  policyRoute('mutator-allowed', { allowedToMutate: true }),
  policyRoute('raw-policy'),
);

let gateway: RunningGateway;
let tls: TlsClientOptions;

beforeAll(async () => {
  gateway = await startGateway({
    routes,
    dispatcher: pool,
    env: { CASTELLAN_ALWAYS_ACCEPT_NAMESPACE: 'kube-system' },
  });
  tls = { ca: gateway.certificates.caPem };
});

afterAll(async () => {
  await gateway?.close();
});

function review(request: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
}

async function validate(
  policyId: string,
  request: Record<string, unknown>,
  endpoint = 'validate',
): Promise<Review> {
  const answer = await http1(gateway.url(`/${endpoint}/${policyId}?timeout=10s`), tls, {
    body: review(request),
  });
  expect(answer.status).toBe(200);
  return parseJson(answer) as Review;
}

function decodedPatch(patch: string | undefined): unknown {
  return JSON.parse(Buffer.from(patch ?? '', 'base64').toString('utf8'));
}

describe('gateway webhook endpoints over real TLS, with an in-process evaluator pool standing in for NATS', () => {
  describe('protocols', () => {
    it('answers an AdmissionReview over HTTP/1.1, echoing the uid', async () => {
      const answer = await http1(gateway.url('/validate/deny-privileged'), tls, {
        body: review(podRequest({ uid: 'http1-uid', labels: { privileged: 'true' } })),
      });
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json');
      expect(parseJson(answer)).toEqual({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: {
          uid: 'http1-uid',
          allowed: false,
          status: { message: 'privileged pods are not allowed', code: 403 },
          auditAnnotations: null,
          warnings: ['checked'],
        },
      });
    });

    it('answers over HTTP/2', async () => {
      const answer = await http2(gateway.url('/validate/deny-privileged?timeout=10s'), tls, {
        body: review(podRequest({ uid: 'http2-uid' })),
      });
      expect(answer.status).toBe(200);
      expect(parseJson(answer)).toEqual({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: 'http2-uid', allowed: true, auditAnnotations: null, warnings: null },
      });
    });

    it('answers v1 even to a v1beta1 review, as policy-server does', async () => {
      const body = JSON.stringify({
        apiVersion: 'admission.k8s.io/v1beta1',
        kind: 'AdmissionReview',
        request: podRequest({}),
      });
      const answer = await http1(gateway.url('/validate/deny-privileged'), tls, { body });
      expect((parseJson(answer) as Review).apiVersion).toBe('admission.k8s.io/v1');
    });

    it('hands the evaluator the body exactly as received and a bounded wait', async () => {
      const body = `{ "request" : ${JSON.stringify(podRequest({ uid: 'verbatim' }), null, 2)} }`;
      await http1(gateway.url('/validate/deny-privileged?timeout=5s'), tls, { body });
      const call = pool.calls.find((candidate) => candidate.uid === 'verbatim');
      expect(Buffer.from(call?.body ?? []).toString('utf8')).toBe(body);
      expect(call?.origin).toBe('validate');
      expect(call?.timeoutMs).toBe(2_500);
      expect(call?.route.policyId).toBe('deny-privileged');
    });
  });

  describe('response processing (monitor mode, mutation rule, custom message)', () => {
    it('admits in monitor mode and drops the status, keeping warnings', async () => {
      const { response } = await validate(
        'monitored',
        podRequest({ uid: 'm-1', labels: { privileged: 'true' } }),
      );
      expect(response).toEqual({ uid: 'm-1', allowed: true, auditAnnotations: null, warnings: ['checked'] });
    });

    it('refuses a mutation from a policy not allowed to mutate', async () => {
      const { response } = await validate('mutator', podRequest({ uid: 'mut-1' }));
      expect(response).toEqual({
        uid: 'mut-1',
        allowed: false,
        status: {
          message:
            'Request rejected by policy mutator. The policy attempted to mutate the request, but it is currently configured to not allow mutations.',
        },
        auditAnnotations: null,
        warnings: null,
      });
    });

    it('passes the patch of a policy allowed to mutate', async () => {
      const { response } = await validate('mutator-allowed', podRequest({ uid: 'mut-2' }));
      expect(response.allowed).toBe(true);
      expect(response.patchType).toBe('JSONPatch');
      expect(decodedPatch(response.patch)).toEqual([
        { op: 'add', path: '/metadata/labels/owner', value: 'castellan' },
      ]);
    });

    it('replaces the message of a denial with the custom message, keeping the original as a cause', async () => {
      const { response } = await validate(
        'custom-message',
        podRequest({ uid: 'c-1', labels: { privileged: 'true' } }),
      );
      expect(response.allowed).toBe(false);
      expect(response.status).toEqual({
        message: 'Contact the platform team',
        details: { causes: [{ message: 'privileged pods are not allowed' }] },
        code: 403,
      });
    });

    it('answers /audit with the unprocessed verdict', async () => {
      const monitored = await validate(
        'monitored',
        podRequest({ uid: 'a-1', labels: { privileged: 'true' } }),
        'audit',
      );
      expect(monitored.apiVersion).toBe('admission.k8s.io/v1');
      expect(monitored.response.allowed).toBe(false);
      expect(monitored.response.status?.message).toBe('privileged pods are not allowed');
      const custom = await validate(
        'custom-message',
        podRequest({ uid: 'a-2', labels: { privileged: 'true' } }),
        'audit',
      );
      expect(custom.response.status?.message).toBe('privileged pods are not allowed');
      const mutated = await validate('mutator', podRequest({ uid: 'a-3' }), 'audit');
      expect(mutated.response.allowed).toBe(true);
      expect(mutated.response.patch).toBeDefined();
      expect(pool.calls.find((call) => call.uid === 'a-3')?.origin).toBe('audit');
    });

    it('admits requests in the always-accept namespace without evaluating them', async () => {
      const before = pool.calls.length;
      const { response } = await validate(
        'deny-privileged',
        podRequest({ uid: 'ns-1', namespace: 'kube-system', labels: { privileged: 'true' } }),
      );
      expect(response).toEqual({ uid: 'ns-1', allowed: true, auditAnnotations: null, warnings: null });
      expect(pool.calls.length).toBe(before);
    });
  });

  describe('/validate_raw', () => {
    it('answers {response} with the raw request uid and applies response processing', async () => {
      const answer = await http1(gateway.url('/validate_raw/raw-policy'), tls, {
        body: JSON.stringify({ request: { uid: 'raw-uid', user: 'bob' } }),
      });
      expect(answer.status).toBe(200);
      expect(parseJson(answer)).toEqual({
        response: {
          uid: 'raw-uid',
          allowed: false,
          status: { message: 'only alice' },
          auditAnnotations: null,
          warnings: null,
        },
      });
    });

    it('answers an empty uid when the raw request has none', async () => {
      const answer = await http2(gateway.url('/validate_raw/raw-policy'), tls, {
        body: JSON.stringify({ request: { user: 'alice' } }),
      });
      expect(parseJson(answer)).toEqual({
        response: { uid: '', allowed: true, auditAnnotations: null, warnings: null },
      });
    });
  });

  describe('refusals, each with a JSON {message, status} body', () => {
    function expectError(answer: Answer, status: number): string {
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toBe('application/json');
      const body = parseJson(answer) as { message: string; status: number };
      expect(body.status).toBe(status);
      return body.message;
    }

    it.each(['validate', 'validate_raw', 'audit'])('404 for an unknown policy on /%s', async (endpoint) => {
      const answer = await http1(gateway.url(`/${endpoint}/nope`), tls, {
        body: JSON.stringify({ request: podRequest({}) }),
      });
      expect(expectError(answer, 404)).toBe('unknown policy: nope');
    });

    it('404 for an unknown path', async () => {
      const answer = await http1(gateway.url('/mutate/deny-privileged'), tls, { body: '{}' });
      expect(expectError(answer, 404)).toContain('no endpoint at /mutate/deny-privileged');
    });

    it('405 for a method other than POST', async () => {
      const answer = await http2(gateway.url('/validate/deny-privileged'), tls, {
        method: 'GET',
        headers: {},
      });
      expect(expectError(answer, 405)).toContain('use POST');
      expect(answer.headers.allow).toBe('POST');
    });

    it.each([
      ['missing', {}],
      ['wrong', { 'content-type': 'text/plain' }],
    ])('415 for a %s content type', async (_, headers) => {
      const answer = await http1(gateway.url('/audit/deny-privileged'), tls, {
        headers,
        body: review(podRequest({})),
      });
      expect(expectError(answer, 415)).toBe('Expected request with `Content-Type: application/json`');
    });

    it('400 for malformed JSON', async () => {
      const answer = await http1(gateway.url('/validate/deny-privileged'), tls, { body: '{"request": {' });
      expect(expectError(answer, 400)).toMatch(/^Failed to parse the request body as JSON: /);
    });

    it('422 for JSON that is not an AdmissionReview, naming the problem', async () => {
      const answer = await http2(gateway.url('/validate/deny-privileged'), tls, {
        body: JSON.stringify({ request: { ...podRequest({}), uid: 42 } }),
      });
      expect(expectError(answer, 422)).toContain('request.uid is required and must be a string');
      const missing = await http1(gateway.url('/validate_raw/raw-policy'), tls, { body: '{"req": {}}' });
      expect(expectError(missing, 422)).toContain('missing field `request`');
    });

    const big = Buffer.alloc(4 * 1024 * 1024, 0x20);

    it('413 for a body over 3 MiB announced by content-length (HTTP/1.1)', async () => {
      const answer = await http1(gateway.url('/validate/deny-privileged'), tls, { body: big });
      expect(expectError(answer, 413)).toContain('larger than 3145728 bytes');
    });

    it('413 for a streamed body over 3 MiB (HTTP/2, no content-length)', async () => {
      const chunks = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 0x20));
      const answer = await http2(gateway.url('/validate/deny-privileged'), tls, { body: chunks });
      expectError(answer, 413);
    });

    it('413 for a chunked body over 3 MiB (HTTP/1.1)', async () => {
      const chunks = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 0x20));
      const answer = await http1(gateway.url('/validate/deny-privileged'), tls, { body: chunks });
      expectError(answer, 413);
    });

    it('accepts a body of exactly 3 MiB', async () => {
      const request = JSON.stringify({ request: podRequest({ uid: 'big' }) });
      const body = request.padEnd(3 * 1024 * 1024, ' ');
      const answer = await http1(gateway.url('/validate/deny-privileged'), tls, { body });
      expect(answer.status).toBe(200);
    });
  });
});
