import { ModuleStore } from '@castellan/module-store';
import { ModuleDistributionClient } from '@castellan/oci';
import { decodeFetchReply, encodeFetchRequest, sha256Hex, Subject } from '@castellan/proto';
import type { FetchReply } from '@castellan/proto';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePolicy } from '../../../test/fixtures/unique-policy.js';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { startRegistry } from '../../../test/harness/registry.js';
import type { TestRegistry } from '../../../test/harness/registry.js';
import { buildFetcher } from '../src/app.js';
import type { FetcherService } from '../src/app.js';
import { OciModuleSource } from '../src/oci-module-source.js';

const MiB = 1024 * 1024;

describe('fetcher against a real nats-server and docker-registry', () => {
  let nats: NatsServer;
  let registry: TestRegistry;
  let nc: NatsConnection;
  let fetcher: FetcherService;
  let source: OciModuleSource;
  let pusher: ModuleDistributionClient;
  const insecure = () => ({ insecureSources: [registry.host], sourceAuthorities: {} });

  const fetch = async (url: string): Promise<FetchReply> =>
    decodeFetchReply(
      (await nc.request(Subject.Fetch, encodeFetchRequest({ url }), { timeout: 30_000 })).data,
    );

  const push = async (repo: string, bytes: Uint8Array): Promise<string> => {
    const url = `registry://${registry.host}/${repo}`;
    await pusher.push(bytes, url);
    return url;
  };

  beforeAll(async () => {
    // One after the other, so that afterAll stops whatever started when one of them cannot.
    nats = await startNatsServer();
    registry = await startRegistry();
    nc = await connect({ servers: nats.url });
    // Fast retries: the outage case must fail quickly, and bounded.
    source = new OciModuleSource({ sources: insecure(), retry: { attempts: 2, baseDelayMs: 50 } });
    fetcher = await buildFetcher({ nc, source, logger: pino({ level: 'silent' }), jetstreamReplicas: 1 });
    pusher = new ModuleDistributionClient({ sources: insecure() });
  });

  afterAll(async () => {
    await fetcher?.stop();
    await source?.close();
    await pusher?.close();
    await nc?.close();
    await Promise.all([nats?.stop(), registry?.stop()]);
  });

  it('stores a pushed module and answers with its digest, size and metadata', async () => {
    const bytes = await uniquePolicy('metadata');
    const url = await push('policies/pod-privileged:v1', bytes);
    const reply = await fetch(url);
    if (!reply.ok) throw new Error(reply.error.message);
    expect(reply.module).toMatchObject({ url, sha256: sha256Hex(bytes), size: bytes.byteLength });
    expect(reply.module.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(reply.module.metadata).toMatchObject({ mutating: false, executionMode: 'kubewarden-wapc' });
    const store = await ModuleStore.open(nc);
    expect(Buffer.from(await store.get(reply.module.sha256)).equals(bytes)).toBe(true);
  });

  it('stores a 20 MB module that an evaluator-side reader gets back intact', async () => {
    const bytes = await uniquePolicy('twenty-megabytes', 20 * MiB);
    const url = await push('policies/large:v1', bytes);
    const reply = await fetch(url);
    if (!reply.ok) throw new Error(reply.error.message);
    const reader = await ModuleStore.open(nc);
    expect(sha256Hex(await reader.get(reply.module.sha256))).toBe(sha256Hex(bytes));
  });

  it('downloads once for fifty concurrent fetches of the same URL', async () => {
    const url = await push('policies/popular:v1', await uniquePolicy('popular', 2 * MiB));
    const before = fetcher.fetcher.downloads;
    const replies = await Promise.all(Array.from({ length: 50 }, () => fetch(url)));
    expect(replies.every((reply) => reply.ok)).toBe(true);
    expect(new Set(replies.map((reply) => (reply.ok ? reply.module.sha256 : ''))).size).toBe(1);
    expect(fetcher.fetcher.downloads - before).toBe(1);
    // A later fetch of the same tag is answered from the index.
    await fetch(url);
    expect(fetcher.fetcher.downloads - before).toBe(1);
  });

  it('re-resolves :latest, and downloads only when it names new bytes', async () => {
    const first = await uniquePolicy('latest-1');
    const url = await push('policies/moving', first);
    const one = await fetch(url);
    const before = fetcher.fetcher.downloads;
    expect((await fetch(url)).ok && fetcher.fetcher.downloads === before).toBe(true);

    const second = await uniquePolicy('latest-2');
    await push('policies/moving', second);
    const two = await fetch(url);
    if (!one.ok || !two.ok) throw new Error('fetch failed');
    expect(one.module.sha256).toBe(sha256Hex(first));
    expect(two.module.sha256).toBe(sha256Hex(second));
    expect(fetcher.fetcher.downloads - before).toBe(1);
  });

  it('refuses a tampered blob with an error naming both digests', async () => {
    const bytes = await uniquePolicy('tampered');
    const url = await push('policies/tampered:v1', bytes);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(registry.blobDataPath(`sha256:${sha256Hex(bytes)}`), await uniquePolicy('evil'));
    const reply = await fetch(url);
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('CASTELLAN_OCI_DIGEST_MISMATCH');
    expect(reply.error.message).toContain(sha256Hex(bytes));
  });

  it('keeps answering for stored modules during a registry outage; new modules fail clearly', async () => {
    const known = await push('policies/before-outage:v1', await uniquePolicy('before-outage'));
    expect((await fetch(known)).ok).toBe(true);
    const host = registry.host;
    await registry.stop();

    const stored = await fetch(known);
    expect(stored.ok).toBe(true);
    const started = Date.now();
    const fresh = await fetch(`registry://${host}/policies/never-fetched:v1`);
    expect(fresh.ok).toBe(false);
    if (fresh.ok) return;
    expect(fresh.error.code).toBe('CASTELLAN_OCI_REGISTRY_UNAVAILABLE');
    expect(fresh.error.message).toContain(host);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
