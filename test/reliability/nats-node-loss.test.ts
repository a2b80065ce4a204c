import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePolicy, exampleReview, startCastellan } from '../harness/castellan.js';
import type { CastellanProcesses, Verdict } from '../harness/castellan.js';
import { startNatsCluster } from '../harness/nats.js';
import type { NatsCluster } from '../harness/nats.js';
import { runLoad } from './load.js';

const TIMEOUT_SECONDS = 2;

describe('a NATS node lost under load (3-node JetStream cluster, R3 buckets, real processes)', () => {
  let cluster: NatsCluster;
  let castellan: CastellanProcesses;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    await cluster.waitForJetStream();
    castellan = await startCastellan({ bus: cluster, evaluators: 2, jetstreamReplicas: 3 });
    await castellan.publish([
      examplePolicy('pod-privileged', 'pod-privileged', { timeoutSeconds: TIMEOUT_SECONDS }),
    ]);
    await castellan.waitUntilServed(['pod-privileged']);
  }, 90_000);

  afterAll(async () => {
    await castellan?.stop();
    await cluster?.stop();
  });

  it('keeps answering: services reconnect to the surviving nodes', async () => {
    const privileged = await exampleReview('privileged-pod');
    const plain = await exampleReview('unprivileged-pod');
    const load = runLoad(8, 8000, (index) =>
      castellan.validate('pod-privileged', index % 2 ? privileged : plain),
    );
    await sleep(2000);
    await cluster.nodes[0]?.kill();
    const verdicts = await load;

    const isPolicyVerdict = (v: Verdict) => v.status === 200 && v.code === undefined;
    const isFailurePolicy = (v: Verdict) =>
      v.status === 200 && v.allowed === false && v.code === 500 && /did not answer/.test(v.message ?? '');
    expect(
      verdicts.filter((v) => !isPolicyVerdict(v) && !isFailurePolicy(v)),
      castellan.logs(),
    ).toEqual([]);
    expect(Math.max(...verdicts.map((v) => v.latencyMs))).toBeLessThan((TIMEOUT_SECONDS + 1) * 1000);
    // Requests lost on the dead node are answered by failure policy; the rest are decided.
    expect(verdicts.filter(isPolicyVerdict).length).toBeGreaterThan(verdicts.length * 0.9);

    for (let i = 0; i < 20; i++) {
      expect(await castellan.validate('pod-privileged', i % 2 ? privileged : plain)).toMatchObject({
        status: 200,
        allowed: i % 2 === 0,
      });
    }
  }, 60_000);
});
