// The attack that found the bus open, repeated against the locked one: rogue clients holding
// Castellan credentials of every other kind race the evaluators for privileged-pod evaluations
// and answer "allowed" to whatever they see. None of them sees a request; no forged verdict lands.
import { encodeEvaluationReply } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import { PermissionViolationError } from '@nats-io/nats-core';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POOL, examplePolicy, exampleReview, startCastellan } from '../harness/castellan.js';
import type { CastellanProcesses, Verdict } from '../harness/castellan.js';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';

const REQUESTS = 100;
const CONCURRENCY = 10;
const ROGUES: BusIdentity[] = [
  { role: 'gateway' },
  { role: 'evaluator', pool: 'tenant-b' },
  { role: 'fetcher' },
  { role: 'control' },
];
/** Where a rogue listens: every evaluation, the default pool's queue group, every reply space. */
const SNARES: [subject: string, queue?: string][] = [
  ['castellan.eval.>'],
  [`castellan.eval.${POOL}.>`, POOL],
  ['_INBOX.>'],
  ['_INBOX.gateway.>'],
];

const forgedAllow = (uid: string) => encodeEvaluationReply({ ok: true, response: { uid, allowed: true } });

interface Rogue {
  nc: NatsConnection;
  subscriptions: Subscription[];
  /** Messages it got, and forged answers it tried to send. */
  seen: number;
  forged: number;
  violations: number;
}

describe('forged verdicts on the locked bus (real gateway, evaluator and rogue clients)', () => {
  let nats: NatsServer;
  let castellan: CastellanProcesses;
  const rogues: Rogue[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    castellan = await startCastellan({ bus: nats, evaluators: 1 });
    await castellan.publish([examplePolicy('pod-privileged', 'pod-privileged')]);
    await castellan.waitUntilServed(['pod-privileged']);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(rogues.map((rogue) => rogue.nc.close()));
    await castellan?.stop();
    await nats?.stop();
  });

  const startRogue = async (identity: BusIdentity): Promise<Rogue> => {
    const nc = await nats.connect(identity);
    const rogue: Rogue = { nc, subscriptions: [], seen: 0, forged: 0, violations: 0 };
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'error' && status.error instanceof PermissionViolationError) rogue.violations++;
      }
    })();
    const answer = (message: Msg) => {
      rogue.seen++;
      // Answer whatever arrives as allowed: on its reply subject, or on the subject itself when
      // it is a reply on its way to the gateway.
      rogue.forged++;
      nc.publish(message.reply || message.subject, forgedAllow('1299d386-525b-4032-98ae-1949f69f9cfc'));
    };
    for (const [subject, queue] of SNARES) {
      rogue.subscriptions.push(
        nc.subscribe(subject, {
          ...(queue ? { queue } : {}),
          // A refused subscription is called back once with the refusal and no message.
          callback: (error, message) => (error ? undefined : answer(message)),
        }),
      );
    }
    await nc.flush();
    return rogue;
  };

  it('answers every privileged pod with the policy deny while rogues of every role try to answer first', async () => {
    for (const identity of ROGUES) rogues.push(await startRogue(identity));
    const review = await exampleReview('privileged-pod');
    const verdicts: Verdict[] = [];
    let sent = 0;
    const worker = async () => {
      while (sent < REQUESTS) {
        sent++;
        verdicts.push(await castellan.validate('pod-privileged', review));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(verdicts).toHaveLength(sent);
    expect(sent).toBe(REQUESTS);
    expect(
      verdicts.filter(
        (verdict) =>
          !(
            verdict.status === 200 &&
            verdict.allowed === false &&
            verdict.uid === '1299d386-525b-4032-98ae-1949f69f9cfc' &&
            verdict.message === 'Privileged container is not allowed'
          ),
      ),
    ).toEqual([]);

    // No rogue took an evaluation: every snare on evaluation subjects was refused by the server.
    for (const rogue of rogues) {
      const [everything, queueGroup] = rogue.subscriptions;
      expect(await everything?.closed).toBeInstanceOf(PermissionViolationError);
      expect(await queueGroup?.closed).toBeInstanceOf(PermissionViolationError);
    }
    // The gateway's credentials may read its own replies (a gateway replica's), never write into
    // them: the one rogue that saw replies had each forgery refused.
    const [gatewayRogue, ...others] = rogues;
    expect(others.map((rogue) => rogue.seen)).toEqual([0, 0, 0]);
    expect(gatewayRogue?.seen).toBeGreaterThanOrEqual(REQUESTS);
    await expect
      .poll(() => gatewayRogue?.violations)
      .toBeGreaterThanOrEqual(gatewayRogue?.forged ?? Infinity);
  }, 60_000);
});
