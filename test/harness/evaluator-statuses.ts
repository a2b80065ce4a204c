import { Bucket, encodeEvaluatorStatus, evaluatorKey } from '@castellan/proto';
import type { EvaluatorStatus } from '@castellan/proto';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { LockedBus } from './nats.js';

export interface EvaluatorStatusWriter {
  /** Writes a status as an evaluator of its pool would; resolves to the entry's revision. */
  put(status: EvaluatorStatus): Promise<number>;
  close(): Promise<void>;
}

/**
 * Writes evaluator statuses with the identity of each status's pool, as the evaluators themselves
 * do: no other identity may write them.
 */
export function evaluatorStatusWriter(bus: LockedBus): EvaluatorStatusWriter {
  const buckets = new Map<string, Promise<KV>>();
  const connections: NatsConnection[] = [];
  const bucketOf = (pool: string): Promise<KV> => {
    let bucket = buckets.get(pool);
    if (!bucket) {
      bucket = bus.connect({ role: 'evaluator', pool }).then((nc) => {
        connections.push(nc);
        return new Kvm(nc).create(Bucket.Evaluators);
      });
      buckets.set(pool, bucket);
    }
    return bucket;
  };
  return {
    async put(status) {
      const bucket = await bucketOf(status.pool);
      return bucket.put(evaluatorKey(status.pool, status.evaluatorId), encodeEvaluatorStatus(status));
    },
    async close() {
      await Promise.all(connections.map((nc) => nc.close()));
    },
  };
}
