import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePolicy, POOL, startCastellan } from '../harness/castellan.js';
import type { CastellanProcesses } from '../harness/castellan.js';
import { startNatsCluster } from '../harness/nats.js';
import type { NatsClient, NatsCluster, NatsClusterNode } from '../harness/nats.js';
import { answerWaitMs, expectEveryRequestAnswered, judgePodLoad, podSender, runLoad } from './load.js';

const POLICY = 'pod-privileged';
const TIMEOUT_SECONDS = 2;
const GATEWAY = 'castellan-gateway';
const EVALUATOR = `castellan-evaluator-${POOL}`;
/** Every service's connection: the gateway, both evaluators, the fetcher. */
const SERVICES = [GATEWAY, EVALUATOR, EVALUATOR, 'castellan-fetcher'];
/** How long the services may take to reconnect to the surviving nodes. */
const RECONNECT_WITHIN_MS = 10_000;
/**
 * After every service is back, how long requests may still meet the loss: JetStream electing new
 * leaders for the buckets the node led, the gateway seeing the evaluators' heartbeats again.
 */
const SETTLE_MS = 2000;

const serviceNames = (clients: NatsClient[]) =>
  clients
    .map((client) => client.name)
    .filter((name) => SERVICES.includes(name))
    .sort();

describe('a NATS node lost under load (3-node JetStream cluster, R3 buckets, real processes)', () => {
  let cluster: NatsCluster;
  let castellan: CastellanProcesses;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    await cluster.waitForJetStream();
    castellan = await startCastellan({ bus: cluster, evaluators: 2, jetstreamReplicas: 3 });
    await castellan.publish([examplePolicy(POLICY, 'pod-privileged', { timeoutSeconds: TIMEOUT_SECONDS })]);
    await castellan.waitUntilServed([POLICY]);
  }, 90_000);

  afterAll(async () => {
    await castellan?.stop();
    await cluster?.stop();
  });

  it('keeps answering: services reconnect to the surviving nodes', async () => {
    const load = runLoad(
      { concurrency: 8, durationMs: 10_000, answerWithinMs: answerWaitMs(TIMEOUT_SECONDS) },
      await podSender(castellan, POLICY),
    );
    await sleep(2000);

    // Kill the node that carries the gateway's requests: every request goes through it.
    const snapshotAt = Date.now();
    const before = await Promise.all(
      cluster.nodes.map(async (node) => ({ node, clients: await node.clients() })),
    );
    const target = before.find(({ clients }) => clients.some((client) => client.name === GATEWAY));
    if (!target) throw new Error(`no node holds the gateway's connection: ${JSON.stringify(before)}`);
    const survivors = cluster.nodes.filter((node) => node !== target.node);
    const killedAt = Date.now();
    await target.node.kill();
    const reconnectedAt = await untilServicesConnectedTo(survivors);
    const run = await load;

    expectEveryRequestAnswered(run);
    const { policy, failurePolicy, wrong } = judgePodLoad(POLICY, run);
    expect(wrong, castellan.logs()).toEqual([]);
    process.stderr.write(
      `nats-node-loss: killed ${target.node.name} holding ${serviceNames(target.clients).join(', ')}; services back on the survivors after ${reconnectedAt - killedAt} ms; ${run.sent} sent, by policy ${policy.length}, by failure policy ${failurePolicy.length} (sent ${failurePolicy.map((a) => a.sentAt - killedAt).join(' ')} ms from the kill)\n`,
    );

    // The fault happened: the node killed carried the gateway's requests — at least one publish for
    // each verdict answered before the snapshot — and (untilServicesConnectedTo) every service came
    // back on the survivors.
    const gateway = target.clients.find((client) => client.name === GATEWAY);
    const decidedBefore = policy.filter(({ answeredAt }) => answeredAt < snapshotAt).length;
    expect(decidedBefore).toBeGreaterThan(50);
    expect(gateway?.inMsgs).toBeGreaterThanOrEqual(decidedBefore);

    // Failure policy only for requests sent while the loss was being recovered from; the policy
    // decides every request sent after.
    const settledAt = reconnectedAt + SETTLE_MS;
    expect(
      failurePolicy.filter(({ sentAt, answeredAt }) => answeredAt < killedAt || sentAt > settledAt),
    ).toEqual([]);
    expect(failurePolicy.length).toBeLessThan(run.sent * 0.1);
    expect(policy.filter(({ sentAt }) => sentAt > settledAt).length).toBeGreaterThan(100);
  }, 60_000);
});

/**
 * Resolves with the time at which every service's connection is on one of `nodes`; fails after
 * RECONNECT_WITHIN_MS with where they are.
 */
async function untilServicesConnectedTo(nodes: NatsClusterNode[]): Promise<number> {
  const deadline = Date.now() + RECONNECT_WITHIN_MS;
  for (;;) {
    const clients = (await Promise.all(nodes.map((node) => node.clients()))).flat();
    const connected = serviceNames(clients);
    if (JSON.stringify(connected) === JSON.stringify([...SERVICES].sort())) return Date.now();
    if (Date.now() > deadline) {
      throw new Error(`after ${RECONNECT_WITHIN_MS} ms the survivors hold only ${connected.join(', ')}`);
    }
    await sleep(50);
  }
}
