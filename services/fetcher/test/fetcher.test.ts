import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModuleStore } from '@castellan/module-store';
import { ModuleDistributionClient, OciErrorCode } from '@castellan/oci';
import type { SourcesConfig } from '@castellan/oci';
import {
  decodeFetchReply,
  encodeFetchRequest,
  PROTO_VERSION,
  ProtoErrorCode,
  sha256Hex,
  Subject,
} from '@castellan/proto';
import type { FetchReply } from '@castellan/proto';
import type { NatsConnection } from '@nats-io/nats-core';
import { encode } from 'cbor-x';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePolicy } from '../../../test/fixtures/unique-policy.js';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { startRegistry } from '../../../test/harness/registry.js';
import type { TestRegistry } from '../../../test/harness/registry.js';
import { buildFetcher } from '../src/app.js';
import type { FetcherService } from '../src/app.js';
import { FetchErrorCode } from '../src/errors.js';
import { FileRoots } from '../src/file-roots.js';
import { OciModuleSource } from '../src/oci-module-source.js';

const MiB = 1024 * 1024;
/** Fast retries: the outage case must fail quickly, and bounded. */
const retry = { attempts: 2, baseDelayMs: 50 };

describe('fetcher against a real nats-server and docker-registry', () => {
  let nats: NatsServer;
  let registry: TestRegistry;
  /** The fetcher's own connection. */
  let nc: NatsConnection;
  /** Asks for fetches, as the control plane does. */
  let control: NatsConnection;
  /** Reads the module store, as an evaluator does. */
  let evaluator: NatsConnection;
  let fetcher: FetcherService;
  let source: OciModuleSource;
  let pusher: ModuleDistributionClient;
  const insecure = () => ({ insecureSources: [registry.host], sourceAuthorities: {} });

  const fetch = (url: string): Promise<FetchReply> => askFetcher(control, encodeFetchRequest({ url }));

  const push = async (repo: string, bytes: Uint8Array): Promise<string> => {
    const url = `registry://${registry.host}/${repo}`;
    await pusher.push(bytes, url);
    return url;
  };

  beforeAll(async () => {
    // One after the other, so that afterAll stops whatever started when one of them cannot.
    nats = await startNatsServer();
    registry = await startRegistry();
    nc = await nats.connect({ role: 'fetcher' });
    control = await nats.connect({ role: 'control' });
    evaluator = await nats.connect({ role: 'evaluator', pool: 'default' });
    // The registry and web servers of these tests are on 127.0.0.1: its network is allowed.
    source = new OciModuleSource(
      { sources: insecure(), retry, allowedNetworks: ['127.0.0.1/32'] },
      await FileRoots.open([]),
    );
    fetcher = await buildFetcher({ nc, source, logger: pino({ level: 'silent' }), jetstreamReplicas: 1 });
    pusher = new ModuleDistributionClient({ sources: insecure() });
  });

  afterAll(async () => {
    await fetcher?.stop();
    await source?.close();
    await pusher?.close();
    await Promise.all([nc?.close(), control?.close(), evaluator?.close()]);
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
    const reader = await ModuleStore.open(evaluator);
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

  it('refuses a request that carries its own sources, whatever its URL', async () => {
    const url = await push('policies/own-sources:v1', await uniquePolicy('own-sources'));
    const sources = { insecureSources: [registry.host, 'example.test'], sourceAuthorities: {} };
    const reply = await askFetcher(control, encode({ v: PROTO_VERSION, url, sources }));
    expect(reply).toMatchObject({ ok: false, error: { code: ProtoErrorCode.MessageInvalid } });
    if (!reply.ok)
      expect(reply.error.message).toMatch(/^FetchRequest\.sources: a request cannot carry sources/);
  });

  it('fetches an http:// module from an allowed network, and refuses a redirect out of it', async () => {
    const bytes = await uniquePolicy('web-module');
    const elsewhere = await serveModule('127.0.0.2', bytes);
    const web = await serveModule('127.0.0.1', bytes, `${elsewhere.origin}/policy.wasm`);
    try {
      const reply = await fetch(`${web.origin}/policy.wasm`);
      expect(reply).toMatchObject({ ok: true, module: { sha256: sha256Hex(bytes) } });

      const redirected = await fetch(`${web.origin}/redirect`);
      expect(redirected).toMatchObject({ ok: false, error: { code: OciErrorCode.AddressNotAllowed } });
      expect(elsewhere.requests).toBe(0);
    } finally {
      await Promise.all([web.close(), elsewhere.close()]);
    }
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

describe('fetcher access by default: no restricted network, files under one root only', () => {
  let nats: NatsServer;
  let registry: TestRegistry;
  let web: ServedModule;
  let nc: NatsConnection;
  let control: NatsConnection;
  let fetcher: FetcherService;
  let source: OciModuleSource;
  let dir: string;
  let root: string;
  let outside: string;
  let module: Uint8Array;
  let sources: SourcesConfig;

  const fetch = (url: string): Promise<FetchReply> => askFetcher(control, encodeFetchRequest({ url }));
  const fileUrl = (path: string) => pathToFileURL(path).href;
  /** A refusal's code and message, the URL taken out: what a requester learns besides its own question. */
  const refusal = async (url: string) => {
    const reply = await fetch(url);
    if (reply.ok) throw new Error(`${url} was served`);
    return { code: reply.error.code, message: reply.error.message.replace(url, '<url>') };
  };

  beforeAll(async () => {
    module = await uniquePolicy('access-rules');
    dir = await mkdtemp(join(tmpdir(), 'castellan-fetcher-files-'));
    root = join(dir, 'policies');
    outside = join(dir, 'elsewhere');
    await mkdir(root);
    await mkdir(outside);
    await writeFile(join(root, 'policy.wasm'), module);
    await writeFile(join(outside, 'secret.wasm'), module);
    await symlink(join(outside, 'secret.wasm'), join(root, 'file-link.wasm'));
    await symlink(outside, join(root, 'dir-link'));

    nats = await startNatsServer();
    registry = await startRegistry();
    web = await serveModule('127.0.0.1', module);
    nc = await nats.connect({ role: 'fetcher' });
    control = await nats.connect({ role: 'control' });
    sources = { insecureSources: [registry.host], sourceAuthorities: {} };
    source = new OciModuleSource({ sources, retry, allowedNetworks: [] }, await FileRoots.open([root]));
    fetcher = await buildFetcher({ nc, source, logger: pino({ level: 'silent' }), jetstreamReplicas: 1 });
  });

  afterAll(async () => {
    await fetcher?.stop();
    await source?.close();
    await Promise.all([nc?.close(), control?.close()]);
    await Promise.all([nats?.stop(), registry?.stop(), web?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['its address', (port: number) => `http://127.0.0.1:${port}/policy.wasm`],
    ['a name that resolves to it', (port: number) => `http://localhost:${port}/policy.wasm`],
    ['its IPv4-mapped IPv6 address', (port: number) => `http://[::ffff:127.0.0.1]:${port}/policy.wasm`],
  ])('refuses a web server on 127.0.0.1 named by %s, without connecting', async (_how, url) => {
    const before = web.requests;
    const reply = await fetch(url(web.port));
    expect(reply).toMatchObject({ ok: false, error: { code: OciErrorCode.AddressNotAllowed } });
    expect(web.requests).toBe(before);
  });

  it('refuses a registry on 127.0.0.1 as well', async () => {
    const url = `registry://${registry.host}/policies/loopback:v1`;
    const pusher = new ModuleDistributionClient({ sources });
    await pusher.push(module, url).finally(() => pusher.close());
    expect(await fetch(url)).toMatchObject({ ok: false, error: { code: OciErrorCode.AddressNotAllowed } });
  });

  it('serves a file under its root', async () => {
    const reply = await fetch(fileUrl(join(root, 'policy.wasm')));
    expect(reply).toMatchObject({ ok: true, module: { sha256: sha256Hex(module) } });
  });

  it('refuses files outside its root with one answer, whether they exist or not', async () => {
    const existing = await refusal(fileUrl(join(outside, 'secret.wasm')));
    expect(existing).toEqual({
      code: FetchErrorCode.FileNotAllowed,
      message:
        '<url> is not under a directory this fetcher may read modules from (CASTELLAN_FETCHER_FILE_ROOTS)',
    });
    expect(await refusal(fileUrl(join(outside, 'missing.wasm')))).toEqual(existing);
    expect(await refusal('file:///etc/hostname')).toEqual(existing);
    expect(await refusal(`file://${root}/../elsewhere/secret.wasm`)).toEqual(existing);
    expect(await refusal(fileUrl(join(root, 'file-link.wasm')))).toEqual(existing);
    expect(await refusal(fileUrl(join(root, 'dir-link', 'secret.wasm')))).toEqual(existing);
    expect(await refusal(fileUrl(join(root, 'dir-link', 'missing.wasm')))).toEqual(existing);
  });
});

/** Sends fetch request bytes as a requester on the bus does. */
async function askFetcher(control: NatsConnection, request: Uint8Array): Promise<FetchReply> {
  return decodeFetchReply((await control.request(Subject.Fetch, request, { timeout: 30_000 })).data);
}

interface ServedModule {
  origin: string;
  port: number;
  /** Requests received so far: a refused address must not even be connected to. */
  readonly requests: number;
  close(): Promise<void>;
}

/** A web server on `address` serving `module` at /policy.wasm and redirecting /redirect to `redirectTo`. */
async function serveModule(address: string, module: Uint8Array, redirectTo?: string): Promise<ServedModule> {
  let requests = 0;
  const server = createServer((request, response) => {
    requests++;
    if (request.url === '/policy.wasm') response.writeHead(200).end(module);
    else if (request.url === '/redirect' && redirectTo)
      response.writeHead(302, { location: redirectTo }).end();
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${address}:${port}`,
    port,
    get requests() {
      return requests;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
