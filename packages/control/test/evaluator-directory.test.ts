import { Bucket, evaluatorKey } from '@castellan/proto';
import type { EvaluatorStatus } from '@castellan/proto';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluatorStatusWriter } from '../../../test/harness/evaluator-statuses.js';
import type { EvaluatorStatusWriter } from '../../../test/harness/evaluator-statuses.js';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { EvaluatorDirectory } from '../src/evaluator-directory.js';

const MINUTE = 60_000;

function status(evaluatorId: string, extra: Partial<EvaluatorStatus> = {}): EvaluatorStatus {
  return {
    evaluatorId,
    pool: 'p',
    heartbeat: Date.now(),
    heartbeatIntervalMs: 1_000,
    loaded: {},
    failed: {},
    draining: false,
    ...extra,
  };
}

describe('EvaluatorDirectory with a real nats-server', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  /** The statuses as the control plane reads them. */
  let kv: KV;
  let statuses: EvaluatorStatusWriter;
  const write = (value: EvaluatorStatus) => statuses.put(value);

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await nats.connect({ role: 'control' });
    kv = await new Kvm(nc).create(Bucket.Evaluators);
    statuses = evaluatorStatusWriter(nats);
  });

  afterAll(async () => {
    await Promise.all([nc?.close(), statuses?.close()]);
    await nats?.stop();
  });

  it('says how far a revision reached the live evaluators, and names load failures', async () => {
    await write(status('a', { loaded: { x: 3 } }));
    await write(status('b', { loaded: { x: 2 } }));
    await write(
      status('c', { loaded: { x: 3 }, failed: { x: { revision: 3, error: { code: 'E', message: 'bad' } } } }),
    );
    await write(status('gone', { heartbeat: Date.now() - 20 * MINUTE, loaded: { x: 1 } }));
    await write(status('other-pool', { pool: 'q', loaded: { x: 9 } }));
    const directory = await EvaluatorDirectory.open(nc, { replicas: 1, logger: pino({ level: 'silent' }) });
    try {
      expect(directory.reach('p', 'x', 3)).toEqual({
        live: 3,
        serving: 1,
        failures: [{ evaluatorId: 'c', code: 'E', message: 'bad' }],
      });
      expect(directory.reach('p', 'x', 2).serving).toBe(2);
    } finally {
      directory.stop();
    }
  });

  it('deletes the statuses of evaluators silent for longer than asked, and only those', async () => {
    await write(status('a', { loaded: { x: 3 } }));
    await write(status('gone', { heartbeat: Date.now() - 20 * MINUTE }));
    const changes: string[] = [];
    const directory = await EvaluatorDirectory.open(nc, {
      replicas: 1,
      logger: pino({ level: 'silent' }),
      onChange: (pool) => changes.push(pool),
    });
    try {
      expect(await directory.forgetSilent(10 * MINUTE)).toEqual([evaluatorKey('p', 'gone')]);
      expect((await kv.get(evaluatorKey('p', 'gone')))?.operation).not.toBe('PUT');
      expect((await kv.get(evaluatorKey('p', 'a')))?.operation).toBe('PUT');
      // A heartbeat that changes nothing served is not news; a new revision is.
      changes.length = 0;
      await write(status('a', { loaded: { x: 3 } }));
      await write(status('a', { loaded: { x: 4 } }));
      await expect.poll(() => changes).toEqual(['p']);
    } finally {
      directory.stop();
    }
  });
});
