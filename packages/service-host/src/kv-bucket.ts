import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { untilAnswered } from './until-answered.js';

/**
 * The KV bucket `name`, created with `replicas` if it does not exist yet; asked again while
 * JetStream does not answer (see {@link untilAnswered}).
 */
export function openKvBucket(nc: NatsConnection, name: string, replicas: number): Promise<KV> {
  return untilAnswered(() => new Kvm(nc).create(name, { replicas }));
}
