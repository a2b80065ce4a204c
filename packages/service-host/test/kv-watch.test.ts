// watchKv against a real nats-server -js: when the replay of the values already there ends. The
// connections hold the permissions of the services that watch and write these buckets.
import { Bucket } from '@castellan/proto';
import { Kvm } from '@nats-io/kv';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsCluster, startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { openKvBucket } from '../src/kv-bucket.js';
import { watchKv } from '../src/kv-watch.js';

const logger = pino({ level: 'silent' });
const CAUGHT_UP_WITHIN_MS = 5_000;

describe('watchKv', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let writer: NatsConnection;

  beforeAll(async () => {
    nats = await startNatsServer();
    [nc, writer] = await Promise.all([
      nats.connect({ role: 'control' }),
      nats.connect({ role: 'evaluator', pool: 'status' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([nc?.close(), writer?.close()]);
    await nats?.stop();
  });

  const policies = () => openKvBucket(nc, Bucket.Policies, 1);

  /** Starts a watch and waits for its replay to end; the entries handed over, with their replayed flag. */
  const replayOf = async (kv: KV, filter: string) => {
    const seen: [string, KvWatchEntry['operation'], boolean][] = [];
    const watch = await watchKv(
      nc,
      kv,
      filter,
      (entry, replayed) => {
        seen.push([entry.key, entry.operation, replayed]);
      },
      logger,
    );
    const timedOut = Symbol('timed out');
    const outcome = await Promise.race([
      watch.caughtUp,
      new Promise((resolve) => setTimeout(resolve, CAUGHT_UP_WITHIN_MS, timedOut)),
    ]);
    return { watch, seen, caughtUp: outcome !== timedOut };
  };

  it('is caught up at once on an empty filter, and hands over later values as updates', async () => {
    const kv = await policies();
    await kv.put('other.a', '1');
    const { watch, seen, caughtUp } = await replayOf(kv, 'empty.>');
    expect(caughtUp).toBe(true);
    await kv.put('empty.a', '1');
    await expect.poll(() => seen).toEqual([['empty.a', 'PUT', false]]);
    watch.stop();
  });

  it('replays the last value of each key under the filter, delete markers included', async () => {
    const kv = await policies();
    await kv.put('replay.a', '1');
    await kv.put('replay.b', '1');
    await kv.delete('replay.a');
    await kv.put('other.c', '1');
    const { watch, seen, caughtUp } = await replayOf(kv, 'replay.>');
    expect(caughtUp).toBe(true);
    expect(seen).toEqual([
      ['replay.b', 'PUT', true],
      ['replay.a', 'DEL', true],
    ]);
    watch.stop();
  });

  // nats-server 2.9 leaves the consumer's pending count at 1 for good when a key is rewritten
  // while the watch starts: a replay that waited for pending 0 never ended.
  it('ends its replay while another process rewrites a key as fast as it can', async () => {
    // An evaluator of pool "status" writes its statuses; the control plane watches them all.
    const hammered = await openKvBucket(writer, Bucket.Evaluators, 1);
    await hammered.put('status.gone', '1');
    await hammered.delete('status.gone');
    const kv = await new Kvm(nc).open(Bucket.Evaluators);
    let writing = true;
    const writes = (async () => {
      for (let beat = 0; writing; beat++) await hammered.put('status.live', String(beat));
    })();
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        const { watch, seen, caughtUp } = await replayOf(kv, '>');
        watch.stop();
        expect(caughtUp, `attempt ${attempt}`).toBe(true);
        expect(seen.filter(([, , replayed]) => replayed).map(([key]) => key)).toContain('status.gone');
      }
    } finally {
      writing = false;
      await writes;
    }
  });

  // Each of three services creates the same R3 bucket and watches it at once, as the gateway and
  // the evaluators do on a cluster just started: the stream answers only once it has a leader.
  // Creating the bucket can time out then too: openKvBucket asks again.
  it('waits for a bucket just created on a 3-node cluster to answer', async () => {
    const cluster = await startNatsCluster(3);
    const connections: NatsConnection[] = [];
    try {
      await cluster.waitForJetStream();
      for (const url of cluster.urls.split(',')) {
        connections.push(await cluster.connect({ role: 'control' }, { servers: url }));
      }
      const outcomes = await Promise.all(
        connections.map(async (connection) => {
          // waitForJetStream created the policies bucket; this one is new.
          const kv = await openKvBucket(connection, Bucket.Evaluators, 3);
          const watch = await watchKv(connection, kv, '>', () => undefined, logger);
          await watch.caughtUp;
          watch.stop();
          return 'caught up';
        }),
      );
      expect(outcomes).toEqual(['caught up', 'caught up', 'caught up']);
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
      await cluster.stop();
    }
  });
});
