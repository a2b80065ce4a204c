import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotatedPolicyBytes } from '../fixtures/index.js';
import { examplePolicy, exampleReview, startCastellan } from '../harness/castellan.js';
import type { CastellanProcesses, Verdict } from '../harness/castellan.js';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';
import { runLoad } from './load.js';

const median = (verdicts: Verdict[]) => {
  const sorted = verdicts.map((v) => v.latencyMs).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const deciles = (verdicts: Verdict[]) => {
  const sorted = verdicts.map((v) => v.latencyMs).sort((a, b) => a - b);
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
    const normal = await runLoad(4, 2000, () => castellan.validate('pod-privileged', review));

    const hostile: Verdict[] = [];
    const hammer = (policyId: string) => async () => {
      const verdict = await castellan.validate(policyId, review);
      hostile.push(verdict);
      return verdict;
    };
    const [underAttack] = await Promise.all([
      runLoad(4, 5000, () => castellan.validate('pod-privileged', review)),
      runLoad(2, 5000, hammer('endless-loop')),
      runLoad(2, 5000, hammer('memory-bomb')),
    ]);

    // Hostile requests are denied: by the runtime (deadline, memory cap) or by failure policy.
    expect(hostile.length).toBeGreaterThan(0);
    expect(hostile.filter((v) => v.status !== 200 || v.allowed !== false || v.code !== 500)).toEqual([]);
    // The other policy is decided by itself, or — when the attack starves it past its timeout —
    // denied by failure policy; never allowed or denied for the wrong reason.
    const decided = (v: Verdict) => v.status === 200 && v.allowed === true;
    const failurePolicy = (v: Verdict) =>
      v.status === 200 && v.code === 500 && /did not answer/.test(v.message ?? '');
    expect(
      underAttack.filter((v) => !decided(v) && !failurePolicy(v)),
      castellan.logs(),
    ).toEqual([]);
    expect(underAttack.filter(decided).length).toBeGreaterThan(0);
    // Once the attack stops, it answers as before: a thread is free, nothing is left stuck.
    const after = await runLoad(4, 2000, () => castellan.validate('pod-privileged', review));
    expect(after.every(decided)).toBe(true);
    process.stderr.write(
      `hostile-policies: median ${median(normal).toFixed(1)} ms normal, ${median(underAttack).toFixed(1)} ms under attack (deciles ${deciles(underAttack)}), ${median(after).toFixed(1)} ms after\n`,
    );
  }, 60_000);
});
