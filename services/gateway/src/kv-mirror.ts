import type { KV, KvEntry } from '@nats-io/kv';

export interface KvMirror {
  /** Resolves once every value present when the mirror started has been seen. */
  readonly ready: Promise<void>;
  stop(): void;
}

/**
 * Follows a KV bucket: `onEntry` sees the current value of every key (`isUpdate` false), then every
 * change (puts, deletes, purges), in order. The watch resumes by itself when the connection comes back.
 */
export async function mirrorKv(
  kv: KV,
  onEntry: (entry: KvEntry, isUpdate: boolean) => void,
): Promise<KvMirror> {
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  // An empty bucket delivers nothing to wait for.
  if ((await kv.status()).values === 0) markReady();
  const watcher = await kv.watch({ key: '>' });
  void (async () => {
    for await (const entry of watcher) {
      onEntry(entry, entry.isUpdate);
      if (!entry.delta) markReady();
    }
  })();
  return { ready, stop: () => watcher.stop() };
}
