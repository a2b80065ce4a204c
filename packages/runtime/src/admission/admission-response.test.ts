import { readFileSync } from 'node:fs';
import jsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { extractAdmissionRequest } from './admission-request.js';
import {
  DELETE_MUTATION_MESSAGE,
  buildAdmissionResponse,
  canonicalAdmissionResponse,
  gatekeeperInput,
  gatekeeperResultToAdmissionResponse,
  internalError,
  opaInput,
  opaResultToAdmissionResponse,
  rejection,
} from './admission-response.js';
import type { AdmissionResponse } from './types.js';

const reviews = new URL('../../../../test/fixtures/admission-reviews/', import.meta.url);

function fixtureRequest(name: string) {
  const text = readFileSync(new URL(name, reviews), 'utf8').replaceAll('$req_uid', 'req-1');
  return extractAdmissionRequest(JSON.parse(text));
}

function decodePatch(response: AdmissionResponse): Operation[] {
  expect(response.patch).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
  return JSON.parse(Buffer.from(response.patch ?? '', 'base64').toString('utf8')) as Operation[];
}

function applied(original: unknown, patch: Operation[]): unknown {
  return jsonPatch.applyPatch(structuredClone(original), patch, true, false).newDocument;
}

describe('buildAdmissionResponse', () => {
  it('accepts without status when the policy gives neither message nor code', () => {
    const response = buildAdmissionResponse({ uid: 'u', original: { a: 1 }, response: { accepted: true } });
    expect(JSON.stringify(response)).toBe(
      '{"uid":"u","allowed":true,"auditAnnotations":null,"warnings":null}',
    );
  });

  it('rejects with message and code in status', () => {
    const response = buildAdmissionResponse({
      uid: 'u',
      original: { a: 1 },
      response: { accepted: false, message: 'no privileged containers', code: 403 },
    });
    expect(JSON.stringify(response)).toBe(
      '{"uid":"u","allowed":false,"status":{"message":"no privileged containers","code":403},' +
        '"auditAnnotations":null,"warnings":null}',
    );
  });

  it('sets status when an accepted reply carries a message or only a code', () => {
    expect(
      buildAdmissionResponse({ uid: 'u', original: {}, response: { accepted: true, message: 'fine, but' } })
        .status,
    ).toEqual({ message: 'fine, but' });
    expect(
      buildAdmissionResponse({ uid: 'u', original: {}, response: { accepted: true, code: 0 } }).status,
    ).toEqual({
      code: 0,
    });
    expect(
      buildAdmissionResponse({ uid: 'u', original: {}, response: { accepted: true, message: '' } }).status,
    ).toEqual({ message: '' });
  });

  it('copies warnings and audit annotations through', () => {
    const response = buildAdmissionResponse({
      uid: 'u',
      original: {},
      response: { accepted: true, warnings: ['w1', 'w2'], audit_annotations: { 'a/b': 'c' } },
    });
    expect(response.warnings).toEqual(['w1', 'w2']);
    expect(response.auditAnnotations).toEqual({ 'a/b': 'c' });
  });

  it('encodes the diff of a real Pod mutation as base64 JSON Patch that reproduces the mutated object', () => {
    const request = fixtureRequest('policy-user-group-mutate-request.json');
    const mutated = structuredClone(request.object) as {
      metadata: { labels: Record<string, string> };
      spec: { containers: Record<string, unknown>[]; securityContext: Record<string, unknown> };
    };
    mutated.spec.securityContext.runAsUser = 1000;
    mutated.metadata.labels = { 'example.com/team~x': 'a' };
    mutated.spec.containers.pop();

    const response = buildAdmissionResponse({
      uid: request.uid,
      original: request.object,
      response: { accepted: true, mutated_object: mutated },
    });

    expect(response.uid).toBe('req-1');
    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe('JSONPatch');
    expect(response.status).toBeUndefined();
    const patch = decodePatch(response);
    expect(patch).toEqual(jsonPatch.compare(request.object as object, mutated));
    expect(patch).toContainEqual({ op: 'add', path: '/spec/securityContext/runAsUser', value: 1000 });
    expect(patch).toContainEqual({ op: 'remove', path: '/spec/containers/1' });
    expect(patch).toContainEqual({ op: 'remove', path: '/metadata/labels/env' });
    expect(patch).toContainEqual({ op: 'add', path: '/metadata/labels/example.com~1team~0x', value: 'a' });
    expect(applied(request.object, patch)).toEqual(mutated);
    expect(Object.keys(response)).toEqual([
      'uid',
      'allowed',
      'patchType',
      'patch',
      'auditAnnotations',
      'warnings',
    ]);
  });

  it('encodes non-ASCII patch values as UTF-8 before base64', () => {
    const response = buildAdmissionResponse({
      uid: 'u',
      original: { note: 'a' },
      response: { accepted: true, mutated_object: { note: 'café ☕' } },
    });
    expect(response.patch).toBe(
      Buffer.from('[{"op":"replace","path":"/note","value":"café ☕"}]', 'utf8').toString('base64'),
    );
  });

  it('answers no patch when the mutated object equals the original', () => {
    const request = fixtureRequest('policy-user-group-mutate-request.json');
    const response = buildAdmissionResponse({
      uid: request.uid,
      original: request.object,
      response: { accepted: true, mutated_object: structuredClone(request.object) },
    });
    expect(response).toEqual({ uid: 'req-1', allowed: true, auditAnnotations: null, warnings: null });
  });

  it('replaces the whole document when a raw request changes kind', () => {
    const response = buildAdmissionResponse({
      uid: '',
      original: 'raw text',
      response: { accepted: true, mutated_object: { wrapped: 'raw text' } },
    });
    expect(decodePatch(response)).toEqual([{ op: 'replace', path: '', value: { wrapped: 'raw text' } }]);
    const arrayToObject = buildAdmissionResponse({
      uid: '',
      original: [1],
      response: { accepted: true, mutated_object: { a: 1 } },
    });
    expect(applied([1], decodePatch(arrayToObject))).toEqual({ a: 1 });
  });

  it('diffs against the whole raw request, a null one included', () => {
    const response = buildAdmissionResponse({
      uid: 'raw-1',
      original: null,
      response: { accepted: true, mutated_object: { user: 'x' } },
    });
    expect(decodePatch(response)).toEqual([{ op: 'replace', path: '', value: { user: 'x' } }]);
  });

  it('refuses a mutation of a DELETE request, dropping the policy message, warnings and annotations', () => {
    const response = buildAdmissionResponse({
      uid: 'del-1',
      original: undefined,
      response: {
        accepted: true,
        message: 'mutated',
        code: 200,
        mutated_object: { a: 1 },
        warnings: ['w'],
        audit_annotations: { k: 'v' },
      },
    });
    expect(response).toEqual({
      uid: 'del-1',
      allowed: false,
      status: {
        message:
          'Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed',
      },
      auditAnnotations: null,
      warnings: null,
    });
    expect(response.status?.message).toBe(DELETE_MUTATION_MESSAGE);
  });

  it('passes a DELETE request without mutation through', () => {
    expect(
      buildAdmissionResponse({
        uid: 'del-2',
        original: undefined,
        response: { accepted: false, message: 'no' },
      }),
    ).toEqual({
      uid: 'del-2',
      allowed: false,
      status: { message: 'no' },
      auditAnnotations: null,
      warnings: null,
    });
  });
});

describe('host-generated rejections', () => {
  it('reject with code 500 by default', () => {
    expect(JSON.stringify(rejection('u', 'Policy execution interrupted'))).toBe(
      '{"uid":"u","allowed":false,"status":{"message":"Policy execution interrupted","code":500},' +
        '"auditAnnotations":null,"warnings":null}',
    );
    expect(rejection('u', 'not found', 404).status).toEqual({ message: 'not found', code: 404 });
  });

  it('prefix internal errors', () => {
    expect(internalError('u', 'boom').status).toEqual({ message: 'internal server error: boom', code: 500 });
  });
});

describe('Rego inputs', () => {
  it('wrap the request for opa and the settings and request for gatekeeper', () => {
    const request = { uid: 'u' };
    expect(opaInput(request)).toEqual({ request });
    expect(gatekeeperInput({ allowed: ['a'] }, request)).toEqual({
      parameters: { allowed: ['a'] },
      review: request,
    });
  });
});

describe('opaResultToAdmissionResponse', () => {
  const resultSet = (response: unknown): unknown => [
    { result: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response } },
  ];

  it('passes the policy response through and overwrites its uid', () => {
    const response = opaResultToAdmissionResponse(
      'req-9',
      resultSet({
        uid: 'policy-made-up',
        allowed: false,
        status: {
          message: 'denied',
          code: 403,
          reason: 'Forbidden',
          details: { causes: [{ field: 'spec' }] },
        },
        warnings: ['w'],
        auditAnnotations: { k: 'v' },
        patchType: 'JSONPatch',
        patch: 'W10=',
        ignored: true,
      }),
    );
    expect(response).toEqual({
      uid: 'req-9',
      allowed: false,
      patchType: 'JSONPatch',
      patch: 'W10=',
      status: { message: 'denied', reason: 'Forbidden', details: { causes: [{ field: 'spec' }] }, code: 403 },
      auditAnnotations: { k: 'v' },
      warnings: ['w'],
    });
    expect(Object.keys(response)).toEqual([
      'uid',
      'allowed',
      'patchType',
      'patch',
      'status',
      'auditAnnotations',
      'warnings',
    ]);
  });

  it('fills auditAnnotations and warnings with null', () => {
    expect(opaResultToAdmissionResponse('u', resultSet({ uid: 'x', allowed: true }))).toEqual({
      uid: 'u',
      allowed: true,
      auditAnnotations: null,
      warnings: null,
    });
  });

  it.each([
    [[]],
    [[{}]],
    [[{ result: true }]],
    [[{ result: { apiVersion: 'admission.k8s.io/v1' } }]],
    [{ result: { response: { uid: 'x', allowed: true } } }],
    [undefined],
  ])('cannot interpret %j', (result) => {
    expect(opaResultToAdmissionResponse('u', result)).toEqual(
      internalError('u', 'cannot interpret OPA policy result'),
    );
  });

  it.each([
    [{ allowed: true }, 'missing field `uid`'],
    [{ uid: 'x' }, 'missing field `allowed`'],
    [{ uid: 'x', allowed: 'yes' }, 'invalid type: string "yes", expected a boolean'],
    [
      { uid: 'x', allowed: false, status: { code: 1000000 } },
      'invalid value: integer `1000000`, expected u16',
    ],
    [
      { uid: 'x', allowed: false, status: 'denied' },
      'invalid type: string "denied", expected struct AdmissionResponseStatus',
    ],
    [
      { uid: 'x', allowed: true, patchType: 'MergePatch' },
      'unknown variant `MergePatch`, expected `JSONPatch`',
    ],
    [{ uid: 'x', allowed: true, warnings: [1] }, 'invalid type: integer `1`, expected a string'],
    [null, 'invalid type: null, expected struct AdmissionResponse'],
  ])('rejects the malformed response %j with 500', (response, description) => {
    expect(opaResultToAdmissionResponse('u', resultSet(response))).toEqual(
      rejection('u', `internal server error: ${description}`, 500),
    );
  });
});

describe('gatekeeperResultToAdmissionResponse', () => {
  it('accepts when there is no violation', () => {
    expect(gatekeeperResultToAdmissionResponse('u', [{ result: [] }])).toEqual({
      uid: 'u',
      allowed: true,
      auditAnnotations: null,
      warnings: null,
    });
  });

  it('denies with every present message joined by ", " and no code', () => {
    const response = gatekeeperResultToAdmissionResponse('u', [
      { result: [{ msg: 'first' }, { details: {} }, { msg: 'second', details: { x: 1 } }, { msg: null }] },
    ]);
    expect(response).toEqual({
      uid: 'u',
      allowed: false,
      status: { message: 'first, second' },
      auditAnnotations: null,
      warnings: null,
    });
  });

  it('denies with an empty message when no violation has one', () => {
    expect(gatekeeperResultToAdmissionResponse('u', [{ result: [{}] }]).status).toEqual({ message: '' });
  });

  it.each([
    [[]],
    [undefined],
    [{ result: [{ msg: 'x' }] }],
    [[{}]],
    [[{ result: 'violation' }]],
    [[{ result: [{ msg: 'x' }, 'y'] }]],
    [[{ result: [{ msg: 7 }] }]],
  ])('treats the missing or malformed result %j as no violation', (result) => {
    expect(gatekeeperResultToAdmissionResponse('u', result).allowed).toBe(true);
  });
});

describe('canonicalAdmissionResponse', () => {
  it('orders keys like the reference serialisation and drops undefined ones', () => {
    const response = canonicalAdmissionResponse({
      warnings: null,
      auditAnnotations: null,
      status: { code: 1, details: { causes: [{ field: 'f', message: 'm' }], name: 'n' }, message: 'x' },
      allowed: false,
      uid: 'u',
      patch: undefined,
    });
    expect(JSON.stringify(response)).toBe(
      '{"uid":"u","allowed":false,"status":{"message":"x","details":{"name":"n","causes":[{"message":"m","field":"f"}]},' +
        '"code":1},"auditAnnotations":null,"warnings":null}',
    );
  });
});
