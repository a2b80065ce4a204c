import { describe, expect, it } from 'vitest';
import { checkContentType, parseAdmissionBody } from './admission-body.js';
import type { AdmissionBodyParse } from './admission-body.js';

const request = {
  uid: 'uid-1',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  resource: { group: '', version: 'v1', resource: 'pods' },
  requestKind: { group: '', version: 'v1', kind: 'Pod' },
  namespace: 'default',
  operation: 'CREATE',
  userInfo: { username: 'alice' },
  object: { metadata: { name: 'web' } },
};

const bytes = (value: unknown): Uint8Array =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

function problem(parse: AdmissionBodyParse): { status: number; message: string } {
  if (parse.ok) throw new Error('expected a problem');
  return parse.problem;
}

describe('checkContentType', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'application/merge+json',
  ])('accepts %s', (header) => {
    expect(checkContentType(header)).toBeUndefined();
  });

  it.each([undefined, '', 'text/plain', 'application/yaml', 'application/jsonx', 'json'])(
    'refuses %j with 415',
    (header) => {
      expect(checkContentType(header)).toEqual({
        status: 415,
        message: 'Expected request with `Content-Type: application/json`',
      });
    },
  );
});

describe('parseAdmissionBody', () => {
  it('reads what the gateway needs from an AdmissionReview', () => {
    const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
    expect(parseAdmissionBody(bytes(review), 'validate')).toEqual({
      ok: true,
      body: { uid: 'uid-1', namespace: 'default', requestKind: 'Pod', operation: 'CREATE' },
    });
  });

  it('leaves resource_kind empty without requestKind', () => {
    const withoutRequestKind = { ...request, requestKind: undefined };
    const parse = parseAdmissionBody(bytes({ request: withoutRequestKind }), 'audit');
    expect(parse.ok && parse.body.requestKind).toBe('');
  });

  it('refuses malformed JSON with 400', () => {
    const { status, message } = problem(parseAdmissionBody(bytes('{"request": '), 'validate'));
    expect(status).toBe(400);
    expect(message).toMatch(/^Failed to parse the request body as JSON: /);
  });

  it('refuses an empty body and a byte-order mark with 400', () => {
    expect(problem(parseAdmissionBody(bytes(''), 'validate')).status).toBe(400);
    expect(
      problem(parseAdmissionBody(bytes(`\ufeff${JSON.stringify({ request })}`), 'validate')).status,
    ).toBe(400);
  });

  it('refuses invalid UTF-8 with 400', () => {
    const { status, message } = problem(parseAdmissionBody(Uint8Array.of(0x7b, 0xff, 0x7d), 'validate'));
    expect(status).toBe(400);
    expect(message).toContain('not valid UTF-8');
  });

  it.each([
    [[], 'expected an AdmissionReview, got a list'],
    ['"text"', 'expected an AdmissionReview, got a string'],
    [{ apiVersion: 'admission.k8s.io/v1' }, 'missing field `request`'],
    [{ request: null }, 'request must be a map (got null)'],
    [{ request: 'x' }, 'request must be a map (got string)'],
    [{ request: { ...request, uid: 7 } }, 'request.uid is required and must be a string'],
    [{ request: { ...request, operation: undefined } }, 'request.operation is required and must be a string'],
    [{ request: { ...request, kind: 'Pod' } }, 'request.kind is required and must be a map'],
  ])('refuses %j with 422 naming the problem', (document, detail) => {
    const { status, message } = problem(
      parseAdmissionBody(
        bytes(typeof document === 'string' ? document : JSON.stringify(document)),
        'validate',
      ),
    );
    expect(status).toBe(422);
    expect(message).toMatch(/^Failed to deserialize the JSON body into the target type: /);
    expect(message).toContain(detail);
  });

  describe('validate_raw', () => {
    it('takes the uid of the raw request when it is a string', () => {
      expect(parseAdmissionBody(bytes({ request: { uid: 'raw-1', user: 'x' } }), 'validate_raw')).toEqual({
        ok: true,
        body: { uid: 'raw-1', namespace: undefined, requestKind: '', operation: '' },
      });
    });

    it('answers with an empty uid when the raw request has none', () => {
      for (const raw of [{ user: 'x' }, { uid: 3 }, ['list'], null]) {
        const parse = parseAdmissionBody(bytes({ request: raw }), 'validate_raw');
        expect(parse.ok && parse.body.uid).toBe('');
      }
    });

    it('still needs a request field', () => {
      const { status, message } = problem(parseAdmissionBody(bytes({ user: 'x' }), 'validate_raw'));
      expect(status).toBe(422);
      expect(message).toContain('missing field `request`');
    });
  });
});
