import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RuntimeError, RuntimeErrorCode } from '../errors.js';
import { extractAdmissionRequest, normaliseAdmissionRequest, requestUid } from './admission-request.js';

const reviews = new URL('../../../../test/fixtures/admission-reviews/', import.meta.url);

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, reviews), 'utf8').replaceAll('$req_uid', 'req-1')) as Record<
    string,
    unknown
  >;
}

function problemsOf(value: unknown): string {
  try {
    normaliseAdmissionRequest(value);
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe(RuntimeErrorCode.RequestInvalid);
    return (error as RuntimeError).message;
  }
  throw new Error('expected the request to be refused');
}

const minimalRequest = {
  uid: 'u-1',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  resource: { group: '', version: 'v1', resource: 'pods' },
  operation: 'DELETE',
  userInfo: {},
};

describe('extractAdmissionRequest', () => {
  it('takes the request out of a full AdmissionReview fixture', () => {
    const review = fixture('policy-apparmor-accept-request.json');
    const request = extractAdmissionRequest(review);
    expect(request.uid).toBe('req-1');
    expect(request.operation).toBe('CREATE');
    expect(request.object).toEqual((review.request as Record<string, unknown>).object);
  });

  it('accepts a bare AdmissionRequest fixture', () => {
    const request = extractAdmissionRequest(fixture('privileged-pod-default.json'));
    expect(request.uid).toBe('1299d386-525b-4032-98ae-1949f69f9cfc');
    expect(request.kind).toEqual({ group: '', version: 'v1', kind: 'Pod' });
  });

  it('re-serialises every fixture like the typed model: known keys in order, no nulls', () => {
    const names = [
      'no_privileged_containers.json',
      'policy-apparmor-accept-request.json',
      'policy-user-group-mutate-request.json',
      'policy-user-group-reject-request.json',
      'privileged-pod-default.json',
      'req_for_secure_pod_images.json',
    ];
    for (const name of names) {
      const request = extractAdmissionRequest(fixture(name));
      // The fixtures carry `oldObject: null`, which the reference host drops.
      expect(Object.keys(request), name).toEqual([
        'uid',
        'kind',
        'resource',
        'requestKind',
        'requestResource',
        'name',
        'namespace',
        'operation',
        'userInfo',
        'object',
        'dryRun',
        'options',
      ]);
      expect(Object.keys(request.userInfo), name).toEqual(['groups', 'username']);
      expect(request.options).toEqual({ kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' });
    }
  });

  it('refuses a document that is neither shape', () => {
    expect(() => extractAdmissionRequest({ uid: 'x' })).toThrow(
      'expected an AdmissionReview (a map with a "request" field) or an AdmissionRequest (a map with "uid" and "operation" fields), got a map with neither',
    );
    expect(() => extractAdmissionRequest('x')).toThrow(/got string$/);
  });

  it('refuses an AdmissionReview whose request is not a map', () => {
    expect(() => extractAdmissionRequest({ apiVersion: 'admission.k8s.io/v1', request: null })).toThrow(
      'invalid AdmissionRequest: request must be a map (got null)',
    );
  });
});

describe('normaliseAdmissionRequest', () => {
  it('drops unknown fields at every level and omits absent optional ones', () => {
    const request = normaliseAdmissionRequest({
      ...minimalRequest,
      kind: { ...minimalRequest.kind, extra: 1 },
      unknownField: true,
      object: null,
      name: null,
      userInfo: { username: 'alice', groups: null, nickname: 'al' },
    });
    expect(request).toEqual({ ...minimalRequest, userInfo: { username: 'alice' } });
    expect(JSON.stringify(request)).toBe(
      '{"uid":"u-1","kind":{"group":"","version":"v1","kind":"Pod"},' +
        '"resource":{"group":"","version":"v1","resource":"pods"},"operation":"DELETE","userInfo":{"username":"alice"}}',
    );
  });

  it('orders userInfo keys and extra entries as the reference host serialises them', () => {
    const request = normaliseAdmissionRequest({
      ...minimalRequest,
      userInfo: { username: 'alice', uid: 'a-1', groups: ['g'], extra: { zone: ['z'], team: ['t'] } },
    });
    expect(JSON.stringify(request.userInfo)).toBe(
      '{"extra":{"team":["t"],"zone":["z"]},"groups":["g"],"uid":"a-1","username":"alice"}',
    );
  });

  it('keeps object, oldObject and options verbatim, unknown keys included', () => {
    const object = { kind: 'Pod', metadata: { name: 'p', weird: [null, { x: 1 }] } };
    const request = normaliseAdmissionRequest({
      ...minimalRequest,
      object,
      oldObject: { a: null },
      options: { x: 1 },
      dryRun: false,
    });
    expect(request.object).toEqual(object);
    expect(request.oldObject).toEqual({ a: null });
    expect(request.options).toEqual({ x: 1 });
    expect(request.dryRun).toBe(false);
  });

  it('reports every missing required field in one message', () => {
    expect(problemsOf({ operation: 5 })).toBe(
      'invalid AdmissionRequest: request.uid is required and must be a string; ' +
        'request.kind is required and must be a map; request.resource is required and must be a map; ' +
        'request.operation is required and must be a string; request.userInfo is required and must be a map',
    );
  });

  it('names nested fields and optional fields of the wrong type', () => {
    expect(
      problemsOf({
        ...minimalRequest,
        uid: 42,
        kind: { group: '', version: 1 },
        requestResource: 'pods',
        namespace: 7,
        dryRun: 'yes',
        userInfo: { groups: ['a', 1], extra: { k: 'v' } },
      }),
    ).toBe(
      'invalid AdmissionRequest: request.uid is required and must be a string; ' +
        'request.kind.version is required and must be a string; request.kind.kind is required and must be a string; ' +
        'request.requestResource must be a map; request.namespace must be a string; ' +
        'request.userInfo.extra must be a map of string lists; request.userInfo.groups must be a list of strings; ' +
        'request.dryRun must be a boolean',
    );
  });

  it('refuses a request that is not a map', () => {
    expect(problemsOf([minimalRequest])).toBe('invalid AdmissionRequest: request must be a map (got list)');
  });
});

describe('requestUid', () => {
  it('is the uid of a raw request when it is a string, else ""', () => {
    expect(requestUid({ uid: 'raw-1', user: 'x' })).toBe('raw-1');
    expect(requestUid({ uid: 7 })).toBe('');
    expect(requestUid({})).toBe('');
    expect(requestUid(['uid'])).toBe('');
    expect(requestUid(null)).toBe('');
  });
});
