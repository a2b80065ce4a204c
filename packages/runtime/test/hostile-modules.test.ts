import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicyModule, RuntimeError } from '@castellan/runtime';
import type { AdmissionResponse, LoadedPolicy, PolicyEvaluator } from '@castellan/runtime';
import { podRequest, policyBytes } from '../../../test/fixtures/index.js';
import { deadlineDecision, loadPolicy, startEvaluator } from './evaluator-harness.js';

let evaluator: PolicyEvaluator;
let accept: LoadedPolicy;

beforeAll(async () => {
  ({ evaluator } = startEvaluator(2));
  accept = await loadPolicy(evaluator, await policyBytes('accept'), { policyId: 'accept' });
});
afterAll(async () => {
  await evaluator.close();
});

/** Starts `count` evaluations of an endless-loop policy. */
function floodWith(loop: LoadedPolicy, count = 3): Promise<AdmissionResponse>[] {
  return Array.from({ length: count }, (_, i) => evaluator.validate(loop, podRequest({ uid: `loop-${i}` })));
}

/** Twenty evaluations of an accepting policy, all allowed within 500 ms. */
async function expectServedPromptly(policy: LoadedPolicy): Promise<void> {
  const started = Date.now();
  const verdicts = await Promise.all(
    Array.from({ length: 20 }, (_, i) => evaluator.validate(policy, podRequest({ uid: `ok-${i}` }))),
  );
  expect(Date.now() - started).toBeLessThan(500);
  expect(verdicts.every((r) => r.allowed)).toBe(true);
}

describe('hostile modules are contained', () => {
  it('answers an endless loop within its deadline + 0.5 s while other policies keep answering', async () => {
    const loop = await loadPolicy(evaluator, await policyBytes('endless-loop'), { timeoutSeconds: 1 });
    const started = Date.now();
    const looping = evaluator.validate(loop, podRequest({ uid: 'loop-uid' }));
    // While one worker spins, the other keeps serving the well-behaved policy.
    const others = await Promise.all(
      Array.from({ length: 20 }, (_, i) => evaluator.validate(accept, podRequest({ uid: `ok-${i}` }))),
    );
    expect(others.every((r) => r.allowed)).toBe(true);
    const response = await looping;
    const elapsed = Date.now() - started;
    expect(response).toEqual(deadlineDecision('loop-uid'));
    expect(elapsed).toBeLessThan(1500);
    // The killed worker was replaced and still serves every loaded policy.
    for (let i = 0; i < 4; i++) expect((await evaluator.validate(accept, podRequest({}))).allowed).toBe(true);
  });

  it('never lets one policy hold every worker: a flood of endless loops leaves one for the others', async () => {
    const loop = await loadPolicy(evaluator, await policyBytes('endless-loop'), { timeoutSeconds: 1 });
    const flood = floodWith(loop);
    // Had the loops taken both workers, these would have waited a whole deadline.
    await expectServedPromptly(accept);
    const verdicts = await Promise.all(flood);
    expect(verdicts.every((r) => !r.allowed && r.status?.code === 500)).toBe(true);
  }, 20_000);

  it('earns a policy trust only by quick evaluations: quick settings validation leaves a loop to its share', async () => {
    const loop = await loadPolicy(evaluator, await policyBytes('endless-loop'), { timeoutSeconds: 1 });
    expect((await evaluator.validateSettings(loop)).valid).toBe(true);
    const flood = floodWith(loop);
    await expectServedPromptly(accept);
    await Promise.all(flood);
  }, 20_000);

  it('judges a policy by how long it ran on its worker, not by a stall of the calling thread', async () => {
    const quick = await loadPolicy(evaluator, await policyBytes('accept'), { policyId: 'quick' });
    const answered = evaluator.validate(quick, podRequest({}));
    // The caller's thread stalls (a GC pause, a busy machine) while the worker answers at once.
    for (const until = Date.now() + 150; Date.now() < until;);
    expect((await answered).allowed).toBe(true);
    const loop = await loadPolicy(evaluator, await policyBytes('endless-loop'), { timeoutSeconds: 1 });
    const flood = floodWith(loop, 1);
    // Had the stall branded the quick policy heavy, it would have waited for the loop's deadline.
    await expectServedPromptly(quick);
    await Promise.all(flood);
  }, 20_000);

  it('denies a memory bomb once it hits the memory cap, and the policy keeps working afterwards', async () => {
    const bomb = await loadPolicy(evaluator, await policyBytes('memory-bomb'), { memoryLimitMiB: 32 });
    const response = await evaluator.validate(bomb, podRequest({ uid: 'bomb' }));
    expect(response.allowed).toBe(false);
    expect(response.status?.code).toBe(500);
    expect(response.status?.message).toMatch(/^internal server error: Guest call failure: /);
    expect((await evaluator.validate(bomb, podRequest({ uid: 'bomb-2' }))).uid).toBe('bomb-2');
    expect((await evaluator.validate(accept, podRequest({}))).allowed).toBe(true);
  });

  it('turns a trap into a 500 rejection and recovers with a fresh instance', async () => {
    const trap = await loadPolicy(evaluator, await policyBytes('trap'));
    for (const uid of ['t1', 't2']) {
      const response = await evaluator.validate(trap, podRequest({ uid }));
      expect(response.uid).toBe(uid);
      expect(response.allowed).toBe(false);
      expect(response.status?.message).toMatch(/^internal server error: Guest call failure: .*unreachable/);
    }
  });

  it('rejects a malformed module at load time with a clear error', async () => {
    await expect(compilePolicyModule(await policyBytes('malformed'))).rejects.toThrow(
      /not a valid WebAssembly module/,
    );
    const error = await compilePolicyModule(await policyBytes('not-wasm')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('CASTELLAN_RUNTIME_MODULE_INVALID');
    expect((error as RuntimeError).message).toMatch(/does not start with the WebAssembly magic/);
  });
});
