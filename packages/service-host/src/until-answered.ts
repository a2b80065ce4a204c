import { TimeoutError } from '@nats-io/nats-core';

/** How long a service keeps asking JetStream a question it does not answer in time. */
export const JETSTREAM_PATIENCE_MS = 30_000;

/**
 * Runs `request` again while it times out, for up to {@link JETSTREAM_PATIENCE_MS}; any other
 * failure, or a timeout past that, is thrown. On a cluster, a stream created a moment ago (every
 * service creates the buckets it uses at start, often at the same moment) answers only once its
 * replicas have elected a leader.
 */
export async function untilAnswered<T>(request: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + JETSTREAM_PATIENCE_MS;
  for (;;) {
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof TimeoutError) || Date.now() >= giveUpAt) throw error;
    }
  }
}
