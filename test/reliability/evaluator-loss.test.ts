import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePolicy, startCastellan } from '../harness/castellan.js';
import type { CastellanProcesses } from '../harness/castellan.js';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';
import { answerWaitMs, expectEveryRequestAnswered, judgePodLoad, podSender, runLoad } from './load.js';

const POLICY = 'pod-privileged';
const TIMEOUT_SECONDS = 2;
const CONCURRENCY = 8;
/**
 * How long after the process is seen gone nats-server may still route a request to it. Each request
 * loop that sends one then waits the gateway's full timeout for its failure-policy answer.
 */
const LOSS_NOTICED_MS = 250;
/** How far an evaluator's log may trail its answers. */
const LOG_LAG_MS = 300;

describe('an evaluator killed with SIGKILL under load (real processes)', () => {
  let nats: NatsServer;
  let castellan: CastellanProcesses;

  beforeAll(async () => {
    nats = await startNatsServer();
    castellan = await startCastellan({ bus: nats, evaluators: 2, recordEvaluations: true });
    await castellan.publish([examplePolicy(POLICY, 'pod-privileged', { timeoutSeconds: TIMEOUT_SECONDS })]);
    await castellan.waitUntilServed([POLICY]);
  }, 60_000);

  afterAll(async () => {
    await castellan?.stop();
    await nats?.stop();
  });

  it('answers every request within its timeout: by the surviving evaluator, or by failure policy', async () => {
    const [killed, survivor] = castellan.evaluators;
    if (!killed || !survivor) throw new Error('the harness started fewer than two evaluators');
    const load = runLoad(
      // Long enough to run on for a while after the requests lost with the evaluator time out.
      { concurrency: CONCURRENCY, durationMs: 6000, answerWithinMs: answerWaitMs(TIMEOUT_SECONDS) },
      await podSender(castellan, POLICY),
    );
    await sleep(1500);
    const killedAt = Date.now();
    await killed.kill();
    const deadAt = Date.now();
    const run = await load;

    expectEveryRequestAnswered(run);
    const { policy, failurePolicy, wrong } = judgePodLoad(POLICY, run);
    expect(wrong, castellan.logs()).toEqual([]);
    const evaluatedBy = (evaluator: typeof killed) =>
      policy.filter(({ answer }) => evaluator.evaluated.has(answer.uid));
    // Which evaluator answered, by its own log. The lines trail the answers a little, and the killed
    // evaluator's last ones may die with it (pino writes asynchronously): those are not asked for.
    const attributable = policy.filter(
      ({ answeredAt }) => answeredAt < killedAt - LOG_LAG_MS || answeredAt > deadAt,
    );
    const unattributed = () =>
      attributable.filter(({ answer }) => ![killed, survivor].some((e) => e.evaluated.has(answer.uid)));
    const deadline = Date.now() + LOG_LAG_MS * 10;
    while (unattributed().length > 0 && Date.now() < deadline) await sleep(50);
    process.stderr.write(
      `evaluator-loss: ${run.sent} sent; by policy ${policy.length} (killed evaluator ${evaluatedBy(killed).length}, survivor ${evaluatedBy(survivor).length}), by failure policy ${failurePolicy.length}\n`,
    );

    // The fault happened: SIGKILL ended the evaluator, which had been answering (by its own log).
    expect(killed.child.signalCode).toBe('SIGKILL');
    expect(evaluatedBy(killed).length).toBeGreaterThan(20);
    // Every verdict of the policy was evaluated by one of the evaluators; after the loss, by the survivor.
    expect(unattributed()).toEqual([]);
    const sentAfterLoss = policy.filter(({ sentAt }) => sentAt > deadAt + LOSS_NOTICED_MS);
    expect(sentAfterLoss.length).toBeGreaterThan(100);
    expect(sentAfterLoss.filter(({ answer }) => !survivor.evaluated.has(answer.uid))).toEqual([]);
    // Only requests in flight on the killed evaluator may miss their answer: failure policy for those
    // alone, at most one per request loop.
    expect(
      failurePolicy.filter(
        ({ sentAt, answeredAt }) => sentAt > deadAt + LOSS_NOTICED_MS || answeredAt < killedAt,
      ),
    ).toEqual([]);
    expect(failurePolicy.length).toBeLessThanOrEqual(CONCURRENCY);
  }, 30_000);
});
