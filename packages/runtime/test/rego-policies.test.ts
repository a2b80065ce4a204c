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

describe('gatekeeper mode (OPA Wasm ABI through @open-policy-agent/opa-wasm)', () => {
  it('sends {parameters, review} and joins violation messages with ", "', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('rego-gatekeeper'), {
      executionMode: 'gatekeeper',
      settings: { forbiddenLabels: ['owner', 'debug'] },
    });
    expect(await evaluator.validateSettings(policy)).toEqual({ valid: true });
    const denied = await evaluator.validate(
      policy,
      podRequest({ uid: 'gk-1', labels: { debug: 'on', owner: 'me' } }),
    );
    expect(denied).toEqual({
      uid: 'gk-1',
      allowed: false,
      status: { message: 'label owner is forbidden, label debug is forbidden' },
      auditAnnotations: null,
      warnings: null,
    });
    const allowed = await evaluator.validate(policy, podRequest({ uid: 'gk-2', labels: { app: 'web' } }));
    expect(allowed).toEqual({ uid: 'gk-2', allowed: true, auditAnnotations: null, warnings: null });
  });

  it('refuses raw requests', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('rego-gatekeeper'), {
      executionMode: 'gatekeeper',
    });
    const response = await evaluator.validate(
      policy,
      { request: { uid: 'raw-1', anything: true } },
      { raw: true },
    );
    expect(response.status).toEqual({
      message: 'internal server error: Gatekeeper does not support raw validation requests',
      code: 500,
    });
  });
});

describe('opa mode', () => {
  it('sends {request}, reads [0].result.response and overwrites its uid', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('rego-opa'), {
      executionMode: 'opa',
      settings: { deniedNamespaces: ['kube-system'] },
    });
    const denied = await evaluator.validate(policy, podRequest({ uid: 'opa-1', namespace: 'kube-system' }));
    expect(denied).toMatchObject({
      uid: 'opa-1',
      allowed: false,
      status: { message: 'namespace kube-system is not allowed' },
    });
    const allowed = await evaluator.validate(policy, podRequest({ uid: 'opa-2', namespace: 'default' }));
    expect(allowed).toMatchObject({ uid: 'opa-2', allowed: true });
  });
});

describe('Rego modules that cannot run', () => {
  it('refuses a module needing a builtin Kubewarden does not provide, naming it', async () => {
    await expect(
      loadPolicy(evaluator, await policyBytes('rego-missing-builtin'), { executionMode: 'opa' }),
    ).rejects.toThrow(/http\.send/);
  });

  it('requires the execution mode of an un-annotated Rego module', async () => {
    await expect(loadPolicy(evaluator, await policyBytes('rego-opa'))).rejects.toThrow(
      /give its execution mode/,
    );
  });

  it('answers an endless Rego evaluation with a deadline rejection', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('rego-endless'), {
      executionMode: 'opa',
      timeoutSeconds: 0.5,
    });
    const response = await evaluator.validate(policy, podRequest({ uid: 'rego-loop' }));
    expect(response).toMatchObject({
      uid: 'rego-loop',
      allowed: false,
      status: {
        message: 'internal server error: guest code interrupted, execution deadline exceeded',
        code: 500,
      },
    });
  });
});
