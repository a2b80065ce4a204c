import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePolicy, exampleReview, startCastellan } from '../harness/castellan.js';
import type { CastellanProcesses, Verdict } from '../harness/castellan.js';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';
import { answerWaitMs, expectEveryRequestAnswered, runLoad, withUid } from './load.js';

/** The request carries the labels team and cost-center, not owner. */
const labels = (change: number) => ({ labels: change % 2 === 0 ? ['team'] : ['owner'] });

describe('settings changed 20 times under load (real processes, two evaluators)', () => {
  let nats: NatsServer;
  let castellan: CastellanProcesses;

  beforeAll(async () => {
    nats = await startNatsServer();
    castellan = await startCastellan({ bus: nats, evaluators: 2 });
    await castellan.publish([examplePolicy('required-labels', 'required-labels', { settings: labels(0) })]);
    await castellan.waitUntilServed(['required-labels']);
  }, 60_000);

  afterAll(async () => {
    await castellan?.stop();
    await nats?.stop();
  });

  it('never fails a request: each answer is the verdict of the old or of the new settings', async () => {
    const review = await exampleReview('unprivileged-pod');
    // The policy has the default timeout, 2 s.
    const load = runLoad({ concurrency: 6, durationMs: 7000, answerWithinMs: answerWaitMs(2) }, (index) =>
      castellan.validate('required-labels', withUid(review, `churn-${index}`)),
    );
    const revisions: number[] = [];
    for (let change = 1; change <= 20; change++) {
      await sleep(250);
      const [outcome] = await castellan.publish([
        examplePolicy('required-labels', 'required-labels', { settings: labels(change) }),
      ]);
      if (outcome?.result !== 'updated') throw new Error(`change ${change}: ${JSON.stringify(outcome)}`);
      revisions.push(outcome.revision);
    }
    const run = await load;

    expectEveryRequestAnswered(run);
    const verdicts = run.answered.map(({ index, answer }) => ({ ...answer, sent: `churn-${index}` }));
    const oldOrNew = (v: Verdict & { sent: string }) =>
      v.status === 200 &&
      v.uid === v.sent &&
      v.code === undefined &&
      (v.allowed === true || (v.allowed === false && v.message === 'missing required labels: owner'));
    expect(new Set(revisions).size).toBe(20);
    expect(run.sent).toBeGreaterThan(100);
    expect(verdicts.filter((v) => !oldOrNew(v))).toEqual([]);
    // Both settings were really served while the load ran.
    expect(verdicts.some((v) => v.allowed === true)).toBe(true);
    expect(verdicts.some((v) => v.allowed === false)).toBe(true);
  }, 60_000);
});
