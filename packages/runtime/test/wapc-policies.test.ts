import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyEvaluator, PolicyLogEntry } from '@castellan/runtime';
import {
  admissionDocument,
  annotatedPolicyBytes,
  podRequest,
  policyBytes,
} from '../../../test/fixtures/index.js';
import { decodePatch, loadPolicy, startEvaluator } from './evaluator-harness.js';

let evaluator: PolicyEvaluator;
let logs: PolicyLogEntry[];

beforeAll(() => {
  ({ evaluator, logs } = startEvaluator(2));
});
afterAll(async () => {
  await evaluator.close();
});

describe('kubewarden-wapc policies built from source', () => {
  it('rejects a privileged pod from a real AdmissionRequest and echoes its uid', async () => {
    const policy = await loadPolicy(evaluator, await annotatedPolicyBytes('pod-privileged'));
    const privileged = await evaluator.validate(policy, await admissionDocument('privileged-pod-default'));
    expect(privileged).toEqual({
      uid: '1299d386-525b-4032-98ae-1949f69f9cfc',
      allowed: false,
      status: { message: 'Privileged container is not allowed' },
      auditAnnotations: null,
      warnings: null,
    });
    const review = await admissionDocument('policy-user-group-mutate-request', 'review-uid-7');
    expect(await evaluator.validate(policy, review)).toEqual({
      uid: 'review-uid-7',
      allowed: true,
      auditAnnotations: null,
      warnings: null,
    });
  });

  it('validates settings with the policy and reports its own message', async () => {
    const bad = await loadPolicy(evaluator, await policyBytes('required-labels'), {
      settings: { labels: 'team' },
    });
    expect(await evaluator.validateSettings(bad)).toEqual({
      valid: false,
      message: 'labels must be a list of strings',
    });
    const good = await loadPolicy(evaluator, await policyBytes('required-labels'), {
      settings: { labels: ['team', 'tier'] },
    });
    expect(await evaluator.validateSettings(good)).toEqual({ valid: true });
    const response = await evaluator.validate(good, podRequest({ labels: { team: 'a' } }));
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toBe('missing required labels: tier');
  });

  it('turns a mutated object into a base64 JSON Patch against request.object', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('add-label'));
    const response = await evaluator.validate(policy, podRequest({ labels: { app: 'web' } }));
    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe('JSONPatch');
    expect(decodePatch(response.patch)).toEqual([
      { op: 'add', path: '/metadata/labels/castellan.dev~1mutated', value: 'true' },
    ]);
  });

  it('refuses a mutation of a DELETE request, which has no object', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('add-label'));
    const response = await evaluator.validate(policy, podRequest({ operation: 'DELETE' }));
    expect(response).toEqual({
      uid: 'pod-uid-0001',
      allowed: false,
      status: {
        message:
          'Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed',
      },
      auditAnnotations: null,
      warnings: null,
    });
  });

  it('carries code, message, warnings and audit annotations through, with a status even when accepted', async () => {
    const settings = {
      response: {
        accepted: true,
        message: 'fine, but',
        code: 299,
        warnings: ['w1'],
        audit_annotations: { k: 'v' },
      },
    };
    const policy = await loadPolicy(evaluator, await policyBytes('echo-response'), { settings });
    expect(await evaluator.validate(policy, podRequest({}))).toEqual({
      uid: 'pod-uid-0001',
      allowed: true,
      status: { message: 'fine, but', code: 299 },
      auditAnnotations: { k: 'v' },
      warnings: ['w1'],
    });
  });

  it('answers an unparsable policy reply with a 500 rejection naming the problem', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('echo-response'), {
      settings: { response: { accepted: 'yes' } },
    });
    const response = await evaluator.validate(policy, podRequest({}));
    expect(response.allowed).toBe(false);
    expect(response.status?.code).toBe(500);
    expect(response.status?.message).toMatch(/^internal server error: invalid response from policy: /);
  });

  it('logs through tracing/log and answers other capabilities as not granted', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('tracing-log'), { policyId: 'tracer' });
    const response = await evaluator.validate(policy, podRequest({}));
    expect(response.status?.message).toBe(
      "Policy has not been granted access to the 'kubernetes/get_resource' host capability. The violation has been reported.",
    );
    expect(logs).toContainEqual(
      expect.objectContaining({ policyId: 'tracer', level: 'info', message: 'hello from policy' }),
    );
  });

  it('isolates requests: a policy keeping a global counter sees a fresh instance every time', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('stateful'));
    const messages = [];
    for (let i = 0; i < 5; i++)
      messages.push((await evaluator.validate(policy, podRequest({}))).status?.message);
    expect(messages).toEqual(['call 1', 'call 1', 'call 1', 'call 1', 'call 1']);
  });

  it('runs wapc_init before serving', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('slow-init'));
    expect((await evaluator.validate(policy, podRequest({}))).status?.message).toBe('initialized');
  });
});
