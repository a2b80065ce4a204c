import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyEvaluator } from '@castellan/runtime';
import { podRequest, policyBytes } from '../../../test/fixtures/index.js';
import { loadPolicy, startEvaluator } from './evaluator-harness.js';

let evaluator: PolicyEvaluator;

beforeAll(() => {
  ({ evaluator } = startEvaluator(1));
});
afterAll(async () => {
  await evaluator.close();
});

describe('wasi policies (WASI command modules, in-memory stdio)', () => {
  it('detects WASI mode without metadata and decides from stdin', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('wasi-policy'), {
      settings: { forbiddenName: 'evil' },
    });
    expect(policy.executionMode).toBe('wasi');
    expect(await evaluator.validateSettings(policy)).toEqual({ valid: true });
    expect((await evaluator.validate(policy, podRequest({ name: 'good' }))).allowed).toBe(true);
    const denied = await evaluator.validate(policy, podRequest({ name: 'evil', uid: 'wasi-uid' }));
    expect(denied).toMatchObject({
      uid: 'wasi-uid',
      allowed: false,
      status: { message: 'name evil is forbidden' },
    });
  });

  it('runs validate-settings with the policy’s own message', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('wasi-policy'), {
      settings: { forbiddenName: 3 },
    });
    expect(await evaluator.validateSettings(policy)).toEqual({
      valid: false,
      message: 'forbiddenName must be a string',
    });
  });

  it('appends host-call errors to stdin, where the guest reads them', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('wasi-policy'), {
      settings: { hostCall: true },
    });
    const response = await evaluator.validate(policy, podRequest({}));
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toBe(
      "Policy has not been granted access to the 'kubernetes/get_resource' host capability. The violation has been reported.",
    );
  });

  it('reports a failing program by its stderr as a 500 rejection', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('wasi-policy'), {
      settings: { crash: true },
    });
    expect(await evaluator.validate(policy, podRequest({ uid: 'crash' }))).toEqual({
      uid: 'crash',
      allowed: false,
      status: { message: 'internal server error: policy crashed on purpose', code: 500 },
      auditAnnotations: null,
      warnings: null,
    });
  });
});
