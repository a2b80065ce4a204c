import { messageOf } from '@castellan/proto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { nanos, nuid } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { untilAnswered } from './until-answered.js';

const RESTART_DELAY_MS = 1_000;
/** How long one request for the newest revision under a filter may take. */
const NEWEST_REVISION_ATTEMPT_MS = 1_000;
const NEWEST_REVISION_CONSUMER_IDLE_MS = 30_000;

export interface KvWatch {
  /** Resolves once the values present when the watch started have been handed over. */
  readonly caughtUp: Promise<void>;
  stop(): void;
}

/**
 * Watches one key filter of a KV bucket (nats-server 2.9 cannot watch several at once): the last
 * value of every key, then every update, each handed to `onEntry` in order, with `replayed` true
 * for the values already there when the watch (re)started. If the watch ends while not stopped (a
 * lost consumer), it starts again and hands over the last values again, so `onEntry` must be
 * idempotent.
 *
 * The replay ends with the newest revision under the filter as the watch starts, asked of the
 * stream. Neither `entry.delta` nor `entry.isUpdate` can tell: both come from the consumer's
 * pending count, which nats-server 2.9 leaves at 1 for good when a key is rewritten while the
 * watch starts (a busy evaluator-status bucket does this), and nats.js marks the last replayed
 * value as an update.
 */
export async function watchKv(
  nc: NatsConnection,
  kv: KV,
  filter: string,
  onEntry: (entry: KvWatchEntry, replayed: boolean) => void,
  logger: Logger,
): Promise<KvWatch> {
  let stopped = false;
  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  let current: Awaited<ReturnType<KV['watch']>> | undefined;
  let restartTimer: NodeJS.Timeout | undefined;

  const start = async (): Promise<void> => {
    const iterator = await kv.watch({ key: filter });
    current = iterator;
    // Asked after the watch exists, so the watch hands over this revision or a newer one.
    const replayEnd = await newestRevision(nc, kv, filter);
    let replaying = replayEnd > 0;
    if (!replaying) markCaughtUp();
    void (async () => {
      try {
        for await (const entry of iterator) {
          try {
            onEntry(entry, replaying);
          } catch (error) {
            logger.error({ err: error, key: entry.key }, 'a KV entry could not be handled');
          }
          if (replaying && entry.revision >= replayEnd) {
            replaying = false;
            markCaughtUp();
          }
        }
      } catch (error) {
        logger.warn({ reason: messageOf(error), filter }, 'KV watch failed');
      }
      if (stopped) return;
      logger.warn({ filter }, 'KV watch ended; watching again');
      restartTimer = setTimeout(restart, RESTART_DELAY_MS);
    })();
  };
  const restart = (): void => {
    if (stopped) return;
    start().catch((error: unknown) => {
      logger.warn({ reason: messageOf(error), filter }, 'cannot watch the KV; retrying');
      restartTimer = setTimeout(restart, RESTART_DELAY_MS);
    });
  };

  await start();
  return {
    caughtUp,
    stop() {
      stopped = true;
      clearTimeout(restartTimer);
      current?.stop();
    },
  };
}

/**
 * The revision of the newest value (or delete marker) under `filter`; 0, which no revision is,
 * when there is none. Asked of a consumer that starts at the newest message under the filter: a
 * service may read only its own keys, and nats-server checks a consumer's filter against its
 * permissions, while a direct message read by subject would reveal any key.
 */
async function newestRevision(nc: NatsConnection, kv: KV, filter: string): Promise<number> {
  const { bucket, streamInfo } = await untilAnswered(() => kv.status());
  const stream = streamInfo.config.name;
  const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: NEWEST_REVISION_ATTEMPT_MS });
  const name = `newest_${nuid.next()}`;
  const consumer = await untilAnswered(() =>
    jsm.consumers.add(stream, {
      name,
      filter_subject: `$KV.${bucket}.${filter}`,
      deliver_policy: DeliverPolicy.Last,
      ack_policy: AckPolicy.None,
      mem_storage: true,
      inactive_threshold: nanos(NEWEST_REVISION_CONSUMER_IDLE_MS),
    }),
  );
  try {
    if (consumer.num_pending === 0) return 0;
    const newest = await (
      await jetstream(nc).consumers.get(stream, name)
    ).next({
      expires: NEWEST_REVISION_ATTEMPT_MS,
    });
    return newest?.seq ?? 0;
  } finally {
    // The server removes it after NEWEST_REVISION_CONSUMER_IDLE_MS anyway.
    await jsm.consumers.delete(stream, name).catch(() => undefined);
  }
}
