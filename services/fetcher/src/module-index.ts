import { Bucket, moduleIndexKey } from '@castellan/proto';
import type { FetchedModule } from '@castellan/proto';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { openKvBucket } from '@castellan/service-host';

/**
 * What each module URL last resolved to (`castellan-module-index`), so a URL fetched once is
 * answered without asking its registry again — the registry may be down. JSON values: the
 * entry is small and read by people debugging with `nats kv get`.
 */
export class ModuleIndex {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, replicas: number): Promise<ModuleIndex> {
    return new ModuleIndex(await openKvBucket(nc, Bucket.ModuleIndex, replicas));
  }

  async lookup(url: string): Promise<FetchedModule | undefined> {
    const entry = await this.kv.get(moduleIndexKey(url));
    if (!entry || entry.operation !== 'PUT') return undefined;
    const module = entry.json<FetchedModule>();
    // A hash collision is beyond belief, but an entry for another URL must never answer.
    return module.url === url ? module : undefined;
  }

  async record(module: FetchedModule): Promise<void> {
    await this.kv.put(moduleIndexKey(module.url), JSON.stringify(module));
  }
}
