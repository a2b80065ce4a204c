import { describe, expect, it } from 'vitest';
import {
  decodeEvaluationReply,
  decodeEvaluationRequest,
  encodeEvaluationReply,
  encodeEvaluationRequest,
} from './evaluation.js';
import type { EvaluationReply, EvaluationRequest } from './evaluation.js';
import { decodeEvaluatorStatus, encodeEvaluatorStatus } from './evaluator-status.js';
import type { EvaluatorStatus } from './evaluator-status.js';

describe('EvaluationRequest', () => {
  it('carries the HTTP body byte for byte', () => {
    // Odd spacing and key order must survive: the body is never re-encoded.
    const body = new TextEncoder().encode('{"request":{ "uid":"u-1","kind":{"kind":"Pod"} , "z":1,"a":2}}');
    const request: EvaluationRequest = {
      policyId: 'pod-privileged',
      revision: 7,
      origin: 'validate',
      body,
      uid: 'u-1',
      deadline: 1_790_000_000_000,
    };
    const decoded = decodeEvaluationRequest(encodeEvaluationRequest(request));
    expect(decoded).toEqual(request);
    expect(new TextDecoder().decode(decoded.body)).toBe(new TextDecoder().decode(body));
  });

  it('refuses an origin the gateway does not have', () => {
    const bytes = encodeEvaluationRequest({
      policyId: 'p',
      revision: 1,
      origin: 'mutate' as 'validate',
      body: new Uint8Array(),
      uid: 'u',
      deadline: 0,
    });
    expect(() => decodeEvaluationRequest(bytes)).toThrow('EvaluationRequest.origin: expected one of');
  });
});

describe('EvaluationReply', () => {
  it.each<EvaluationReply>([
    {
      ok: true,
      response: {
        uid: 'u-1',
        allowed: false,
        status: { message: 'privileged containers are not allowed', code: 400 },
        auditAnnotations: null,
        warnings: ['w'],
      },
    },
    { ok: false, error: { code: 'CASTELLAN_EVAL_POLICY_NOT_LOADED', message: 'revision 3 is not loaded' } },
  ])('round-trips %#', (reply) => {
    expect(decodeEvaluationReply(encodeEvaluationReply(reply))).toEqual(reply);
  });
});

describe('EvaluatorStatus', () => {
  it('round-trips loaded revisions and load failures', () => {
    const status: EvaluatorStatus = {
      evaluatorId: 'host-1234',
      pool: 'default',
      heartbeat: 1_790_000_000_000,
      heartbeatIntervalMs: 2000,
      loaded: { 'pod-privileged': 4, broken: 9 },
      failed: {
        broken: { revision: 9, error: { code: 'CASTELLAN_RUNTIME_MODULE_INVALID', message: 'not wasm' } },
      },
      draining: false,
    };
    expect(decodeEvaluatorStatus(encodeEvaluatorStatus(status))).toEqual(status);
  });
});
