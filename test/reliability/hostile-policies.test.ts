import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotatedPolicyBytes } from '../fixtures/index.js';
import { examplePolicy, exampleReview, startCastellan } from '../harness/castellan.js';
import type { CastellanProcesses, Verdict } from '../harness/castellan.js';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';
import { answerWaitMs, expectEveryRequestAnswered, failurePolicyMessage, runLoad, withUid } from './load.js';
import type { LoadRun } from './load.js';

/** Long enough for the longest policy timeout here: pod-privileged's default, 2 s. */
const ANSWER_WITHIN_MS = answerWaitMs(2);
/** The runtime's deny when a policy ran past its deadline. */
const INTERRUPTED = /^Policy execution interrupted because it exceeded the allowed execution time$/;
/** The runtime's deny when a waPC policy trapped (the memory bomb, once memory.grow fails at the cap). */
const TRAPPED = /^internal server error: Guest call failure: .*unreachable/;

const latencies = (run: LoadRun<Verdict>) =>
  run.answered.map(({ answer }) => answer.latencyMs).sort((a, b) => a - b);

const median = (run: LoadRun<Verdict>) => {
  const sorted = latencies(run);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const deciles = (run: LoadRun<Verdict>) => {
  const sorted = latencies(run);
  return [0.1, 0.3, 0.5, 0.7, 0.9, 1]
    .map((q) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1))
    .join(' / ');
};

describe('an endless loop and a memory bomb under load (real processes, one evaluator, two threads)', () => {
  let nats: NatsServer;
  let castellan: CastellanProcesses;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'castellan-hostile-'));
    const hostile = async (name: string) => {
      const path = join(dir, `${name}.wasm`);
      await writeFile(path, await annotatedPolicyBytes(name));
      return examplePolicy(name, 'pod-privileged', { moduleUrl: `file://${path}`, timeoutSeconds: 1 });
    };
    nats = await startNatsServer();
    castellan = await startCastellan({ bus: nats, evaluators: 1, workers: 2, moduleDirs: [dir] });
    await castellan.publish([
      examplePolicy('pod-privileged', 'pod-privileged'),
      await hostile('endless-loop'),
      await hostile('memory-bomb'),
    ]);
    await castellan.waitUntilServed(['pod-privileged']);
  }, 60_000);

  afterAll(async () => {
    await castellan?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('denies the hostile requests and never lets them make another policy decide wrongly', async () => {
    const review = await exampleReview('unprivileged-pod');
    const load = (policyId: string, concurrency: number, durationMs: number) =>
      runLoad({ concurrency, durationMs, answerWithinMs: ANSWER_WITHIN_MS }, (index) =>
        castellan.validate(policyId, withUid(review, `${policyId}-${index}`)),
      );
    const normal = await load('pod-privileged', 4, 2000);
    const [underAttack, endlessLoop, memoryBomb] = await Promise.all([
      load('pod-privileged', 4, 5000),
      load('endless-loop', 2, 5000),
      load('memory-bomb', 2, 5000),
    ]);
    const after = await load('pod-privileged', 4, 2000);

    const runs: [string, LoadRun<Verdict>][] = [
      ['pod-privileged', normal],
      ['pod-privileged', underAttack],
      ['endless-loop', endlessLoop],
      ['memory-bomb', memoryBomb],
      ['pod-privileged', after],
    ];
    for (const [, run] of runs) expectEveryRequestAnswered(run);
    // Every answer echoes the uid of its own request.
    expect(
      runs.flatMap(([policyId, run]) =>
        run.answered.filter(({ index, answer }) => answer.uid !== `${policyId}-${index}`),
      ),
    ).toEqual([]);

    // Hostile requests are denied by the runtime — which shows the hostile module ran: the loop
    // until its deadline, the bomb until memory.grow failed at the cap — or by failure policy.
    const denial = (message: RegExp) => (v: Verdict) =>
      v.status === 200 && v.allowed === false && v.code === 500 && message.test(v.message ?? '');
    const interrupted = denial(INTERRUPTED);
    const trapped = denial(TRAPPED);
    const failurePolicy = (policyId: string) => denial(failurePolicyMessage(policyId));
    const verdicts = (run: LoadRun<Verdict>) => run.answered.map(({ answer }) => answer);
    expect(verdicts(endlessLoop).filter((v) => !interrupted(v) && !failurePolicy('endless-loop')(v))).toEqual(
      [],
    );
    expect(verdicts(endlessLoop).filter(interrupted).length).toBeGreaterThan(0);
    expect(
      verdicts(memoryBomb).filter((v) => !trapped(v) && !interrupted(v) && !failurePolicy('memory-bomb')(v)),
    ).toEqual([]);
    expect(verdicts(memoryBomb).filter(trapped).length).toBeGreaterThan(0);

    // The other policy is decided by itself, or — when the attack starves it past its timeout —
    // denied by failure policy; never allowed or denied for the wrong reason.
    const decided = (v: Verdict) => v.status === 200 && v.allowed === true && v.code === undefined;
    expect(verdicts(normal).filter((v) => !decided(v))).toEqual([]);
    expect(
      verdicts(underAttack).filter((v) => !decided(v) && !failurePolicy('pod-privileged')(v)),
      castellan.logs(),
    ).toEqual([]);
    expect(verdicts(underAttack).filter(decided).length).toBeGreaterThan(0);
    // Once the attack stops, it answers as before: a thread is free, nothing is left stuck.
    expect(verdicts(after).filter((v) => !decided(v))).toEqual([]);
    process.stderr.write(
      `hostile-policies: median ${median(normal).toFixed(1)} ms normal, ${median(underAttack).toFixed(1)} ms under attack (deciles ${deciles(underAttack)}), ${median(after).toFixed(1)} ms after\n`,
    );
  }, 60_000);
});
