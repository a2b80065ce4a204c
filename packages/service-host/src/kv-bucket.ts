import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import { TimeoutError } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/nats-core';
import { setTimeout as sleep } from 'node:timers/promises';
import { JETSTREAM_PATIENCE_MS, untilAnswered } from './until-answered.js';

/**
 * How a service comes to a bucket: its owner creates it when it does not exist yet; a reader (whose
 * permissions do not let it create the bucket) waits for the owner to.
 */
export type BucketRole = 'owner' | 'reader';

const EXISTENCE_POLL_MS = 250;

/**
 * The KV bucket `name` (created with `replicas` by its owner when missing); asked again while
 * JetStream does not answer (see {@link untilAnswered}).
 */
export async function openKvBucket(
  nc: NatsConnection,
  name: string,
  replicas: number,
  role: BucketRole = 'owner',
): Promise<KV> {
  if (role === 'reader') await untilStreamExists(nc, `KV_${name}`, `bucket ${name}`);
  return untilAnswered(() => new Kvm(nc).create(name, { replicas }));
}

/**
 * Resolves once the stream exists; asks again while it is missing or JetStream does not answer,
 * for up to {@link JETSTREAM_PATIENCE_MS}, then throws saying what is missing.
 */
export async function untilStreamExists(nc: NatsConnection, stream: string, what: string): Promise<void> {
  const giveUpAt = Date.now() + JETSTREAM_PATIENCE_MS;
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  for (;;) {
    try {
      await jsm.streams.info(stream);
      return;
    } catch (error) {
      const missing = error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
      if (!missing && !(error instanceof TimeoutError)) throw error;
      if (Date.now() >= giveUpAt) {
        throw new Error(
          `${what} ${missing ? 'does not exist' : 'did not answer'} after ${JETSTREAM_PATIENCE_MS / 1000} s: the service that owns it creates it; is it running?`,
          { cause: error },
        );
      }
      await sleep(EXISTENCE_POLL_MS);
    }
  }
}
