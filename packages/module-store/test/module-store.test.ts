import { randomBytes } from 'node:crypto';
import { Bucket, sha256Hex } from '@castellan/proto';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { ModuleStore, ModuleStoreErrorCode } from '../src/index.js';

const MiB = 1024 * 1024;

describe('ModuleStore against a real nats-server -js', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let store: ModuleStore;

  beforeAll(async () => {
    nats = await startNatsServer();
    // The fetcher owns the module store.
    nc = await nats.connect({ role: 'fetcher' });
    store = await ModuleStore.open(nc);
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('stores a module under its sha256 and reads back the same bytes', async () => {
    const bytes = new Uint8Array(randomBytes(3000));
    const stored = await store.put(bytes);
    expect(stored).toEqual({ sha256: sha256Hex(bytes), size: 3000 });
    expect(await store.stat(stored.sha256)).toEqual(stored);
    expect(Buffer.from(await store.get(stored.sha256)).equals(bytes)).toBe(true);
  });

  it('does not write a module again that is already stored', async () => {
    const bytes = new Uint8Array(randomBytes(1000));
    const first = await store.put(bytes);
    const objects = await new Objm(nc).open(Bucket.Modules);
    const revision = (await objects.info(first.sha256))?.revision;
    await store.put(bytes);
    expect((await objects.info(first.sha256))?.revision).toBe(revision);
  });

  it('reads a 20 MB module intact, eight times at once (nats.js#430 stalls here with ObjectStore.get)', async () => {
    const bytes = new Uint8Array(randomBytes(20 * MiB));
    const { sha256 } = await store.put(bytes);
    const reads = await Promise.all(Array.from({ length: 8 }, () => store.get(sha256)));
    for (const read of reads) expect(sha256Hex(read)).toBe(sha256);
  });

  it('says a module is missing and how to get it there', async () => {
    const missing = 'f'.repeat(64);
    expect(await store.stat(missing)).toBeUndefined();
    const error = store.get(missing);
    await expect(error).rejects.toMatchObject({ code: ModuleStoreErrorCode.NotFound });
    await expect(error).rejects.toThrow('fetch it first');
  });

  it('refuses an object written with bytes that do not hash to its name, and replaces it on the next put', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const name = sha256Hex(bytes);
    const objects = await new Objm(nc).open(Bucket.Modules);
    await objects.putBlob({ name }, new Uint8Array([9, 9, 9]));
    const error = store.get(name);
    await expect(error).rejects.toMatchObject({ code: ModuleStoreErrorCode.Corrupt });
    await expect(error).rejects.toThrow(`hash to ${sha256Hex(new Uint8Array([9, 9, 9]))}`);
    // Not stored as far as a fetcher is concerned: it fetches the module again and puts it.
    expect(await store.stat(name)).toBeUndefined();
    expect(await store.put(bytes)).toEqual({ sha256: name, size: 3 });
    expect(await store.stat(name)).toEqual({ sha256: name, size: 3 });
    expect(Buffer.from(await store.get(name)).equals(bytes)).toBe(true);
  });

  it('refuses chunks that no longer hash to the name the object was written under', async () => {
    const bytes = new Uint8Array(randomBytes(1000));
    const { sha256 } = await store.put(bytes);
    const info = await (await new Objm(nc).open(Bucket.Modules)).info(sha256);
    const chunks = `$O.${Bucket.Modules}.C.${info?.nuid ?? ''}`;
    await (await jetstreamManager(nc)).streams.purge(`OBJ_${Bucket.Modules}`, { filter: chunks });
    const other = new Uint8Array(randomBytes(1000));
    await jetstream(nc).publish(chunks, other);
    const error = store.get(sha256);
    await expect(error).rejects.toMatchObject({ code: ModuleStoreErrorCode.Corrupt });
    await expect(error).rejects.toThrow(`stored bytes hash to ${sha256Hex(other)}`);
  });
});
