import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyEvaluator } from '@castellan/runtime';
import { podRequest, policyBytes } from '../../../test/fixtures/index.js';
import { deadlineDecision, loadPolicy, startEvaluator } from './evaluator-harness.js';

let evaluator: PolicyEvaluator;

beforeEach(() => {
  ({ evaluator } = startEvaluator(1));
});
afterEach(async () => {
  await evaluator.close();
});

/**
 * Settings the `wasi-policy` guest takes long to parse (~0.5 s here, ten times the 50 ms that
 * marks a policy heavy): its settings validation, and each evaluation, really run for long.
 */
function slowSettings(forbiddenName: string): Record<string, unknown> {
  return { forbiddenName, padding: Array.from({ length: 300_000 }, (_, index) => ({ index })) };
}

describe('a pool of one worker thread always makes progress', () => {
  it('keeps running an endless loop marked heavy by its overrun, and a quick policy beside it', async () => {
    const loop = await loadPolicy(evaluator, await policyBytes('endless-loop'), {
      policyId: 'loop',
      timeoutSeconds: 0.5,
    });
    const quick = await loadPolicy(evaluator, await policyBytes('accept'), {
      policyId: 'quick',
      timeoutSeconds: 10,
    });
    expect(await evaluator.validate(loop, podRequest({ uid: 'loop-0' }))).toEqual(deadlineDecision('loop-0'));
    // The loop is heavy now, and there is no second thread to keep idle for its neighbours.
    const [loop1, quick1, loop2, quick2] = await Promise.all([
      evaluator.validate(loop, podRequest({ uid: 'loop-1' })),
      evaluator.validate(quick, podRequest({ uid: 'quick-1' })),
      evaluator.validate(loop, podRequest({ uid: 'loop-2' })),
      evaluator.validate(quick, podRequest({ uid: 'quick-2' })),
    ]);
    expect(loop1).toEqual(deadlineDecision('loop-1'));
    expect(loop2).toEqual(deadlineDecision('loop-2'));
    expect(quick1).toMatchObject({ uid: 'quick-1', allowed: true });
    expect(quick2).toMatchObject({ uid: 'quick-2', allowed: true });
  }, 20_000);

  it('runs the evaluations of a policy whose settings validation ran for long', async () => {
    const policy = await loadPolicy(evaluator, await policyBytes('wasi-policy'), {
      settings: slowSettings('evil'),
      timeoutSeconds: 30,
    });
    expect(await evaluator.validateSettings(policy)).toEqual({ valid: true });
    expect(await evaluator.validate(policy, podRequest({ name: 'good', uid: 'good' }))).toMatchObject({
      uid: 'good',
      allowed: true,
    });
    expect(await evaluator.validate(policy, podRequest({ name: 'evil', uid: 'evil' }))).toMatchObject({
      uid: 'evil',
      allowed: false,
      status: { message: 'name evil is forbidden' },
    });
  }, 20_000);

  it('answers a queued evaluation as timed out once its deadline passes, while a loop holds the thread', async () => {
    const loop = await loadPolicy(evaluator, await policyBytes('endless-loop'), { timeoutSeconds: 3 });
    const quick = await loadPolicy(evaluator, await policyBytes('accept'), { timeoutSeconds: 0.3 });
    let loopAnswered = false;
    const looping = evaluator.validate(loop, podRequest({ uid: 'loop' })).then((response) => {
      loopAnswered = true;
      return response;
    });
    expect(await evaluator.validate(quick, podRequest({ uid: 'queued' }))).toEqual(
      deadlineDecision('queued'),
    );
    // Answered while still queued, not once the loop gave the thread back.
    expect(loopAnswered).toBe(false);
    expect(await looping).toEqual(deadlineDecision('loop'));
  }, 20_000);
});
