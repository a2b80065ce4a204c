import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { Logger } from 'pino';

const RESTART_DELAY_MS = 1_000;

export interface KvWatch {
  /** Resolves once the values present when the watch started have been handed over. */
  readonly caughtUp: Promise<void>;
  stop(): void;
}

/**
 * Watches one key filter of a KV bucket (nats-server 2.9 cannot watch several at once): the last
 * value of every key, then every update, each handed to `onEntry` in order, with `replayed` true
 * for the values already there when the watch (re)started. (`entry.isUpdate` cannot tell: nats.js
 * marks the last of those values as an update.) If the watch ends while not stopped (a lost
 * consumer), it starts again and hands over the last values again, so `onEntry` must be idempotent.
 */
export async function watchKv(
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
    // The watch says nothing when it starts empty: ask whether there is anything to wait for.
    let replaying = await hasAnyKey(kv, filter);
    if (!replaying) markCaughtUp();
    void (async () => {
      try {
        for await (const entry of iterator) {
          try {
            onEntry(entry, replaying);
          } catch (error) {
            logger.error({ err: error, key: entry.key }, 'a KV entry could not be handled');
          }
          if (entry.delta === 0) {
            replaying = false;
            markCaughtUp();
          }
        }
      } catch (error) {
        logger.warn(
          { reason: error instanceof Error ? error.message : String(error), filter },
          'KV watch failed',
        );
      }
      if (stopped) return;
      logger.warn({ filter }, 'KV watch ended; watching again');
      restartTimer = setTimeout(restart, RESTART_DELAY_MS);
    })();
  };
  const restart = (): void => {
    if (stopped) return;
    start().catch((error: unknown) => {
      logger.warn(
        { reason: error instanceof Error ? error.message : String(error), filter },
        'cannot watch the KV; retrying',
      );
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

async function hasAnyKey(kv: KV, filter: string): Promise<boolean> {
  const keys = await kv.keys(filter);
  const first = await keys[Symbol.asyncIterator]().next();
  keys.stop();
  return first.done !== true;
}
