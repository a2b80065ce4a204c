import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePolicy, exampleReview, startCastellan } from '../harness/castellan.js';
import type { CastellanProcesses, Verdict } from '../harness/castellan.js';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';
import { runLoad } from './load.js';

const TIMEOUT_SECONDS = 2;

describe('an evaluator killed with SIGKILL under load (real processes)', () => {
  let nats: NatsServer;
  let castellan: CastellanProcesses;

  beforeAll(async () => {
    nats = await startNatsServer();
    castellan = await startCastellan({ bus: nats, evaluators: 2 });
    await castellan.publish([
      examplePolicy('pod-privileged', 'pod-privileged', { timeoutSeconds: TIMEOUT_SECONDS }),
    ]);
    await castellan.waitUntilServed(['pod-privileged']);
  }, 60_000);

  afterAll(async () => {
    await castellan?.stop();
    await nats?.stop();
  });

  it('answers every request within its timeout: by the surviving evaluator, or by failure policy', async () => {
    const privileged = await exampleReview('privileged-pod');
    const plain = await exampleReview('unprivileged-pod');
    const load = runLoad(8, 4000, (index) =>
      castellan.validate('pod-privileged', index % 2 ? privileged : plain),
    );
    await sleep(1500);
    await castellan.evaluators[0]?.kill();
    const verdicts = await load;

    const isPolicyVerdict = (v: Verdict) => v.status === 200 && v.code === undefined;
    const isFailurePolicy = (v: Verdict) =>
      v.status === 200 && v.allowed === false && v.code === 500 && /did not answer/.test(v.message ?? '');
    expect(verdicts.length).toBeGreaterThan(100);
    expect(verdicts.filter((v) => !isPolicyVerdict(v) && !isFailurePolicy(v))).toEqual([]);
    // Only requests in flight on the killed evaluator may miss their answer; nothing hangs.
    expect(verdicts.filter(isFailurePolicy).length).toBeLessThanOrEqual(8);
    expect(Math.max(...verdicts.map((v) => v.latencyMs))).toBeLessThan((TIMEOUT_SECONDS + 1) * 1000);
    // The survivor keeps deciding correctly after the loss.
    const after = await castellan.validate('pod-privileged', privileged);
    expect(after).toMatchObject({
      status: 200,
      allowed: false,
      message: 'Privileged container is not allowed',
    });
  }, 30_000);
});
