import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryCredentials } from './credentials.js';
import { OciErrorCode } from './errors.js';
import { MediaType } from './manifest.js';
import { ModuleDistributionClient } from './module-distribution-client.js';

/**
 * docker-registry has no token authentication, so this test plays both the registry and its
 * token realm with a small node:http server speaking the distribution token protocol.
 */
const MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
const digestOf = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const LAYER_DIGEST = digestOf(MODULE);
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  config: { mediaType: MediaType.WasmConfig, digest: digestOf('{}'), size: 2 },
  layers: [{ mediaType: MediaType.WasmLayer, digest: LAYER_DIGEST, size: MODULE.byteLength }],
});
const MANIFEST_DIGEST = digestOf(MANIFEST);
const SCOPE = 'repository:team/policy:pull';

let server: Server;
let host: string;
const tokenRequests: { authorization?: string; scope: string | null; service: string | null }[] = [];
const storageAuthorizations: (string | undefined)[] = [];

function handle(request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', `http://${host}`);
  if (url.pathname === '/token') {
    tokenRequests.push({
      ...(request.headers.authorization && { authorization: request.headers.authorization }),
      scope: url.searchParams.get('scope'),
      service: url.searchParams.get('service'),
    });
    if (request.headers.authorization !== `Basic ${Buffer.from('alice:secret').toString('base64')}`) {
      response.writeHead(401).end();
      return;
    }
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ access_token: 'tok-1' }));
    return;
  }
  if (url.pathname.startsWith('/storage/')) {
    storageAuthorizations.push(request.headers.authorization);
    response.writeHead(200, { 'content-length': MODULE.byteLength }).end(MODULE);
    return;
  }
  if (request.headers.authorization !== 'Bearer tok-1') {
    response
      .writeHead(401, {
        'www-authenticate': `Bearer realm="http://${host}/token",service="fake-registry",scope="${SCOPE}"`,
        'content-type': 'application/json',
      })
      .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    return;
  }
  if (url.pathname.startsWith('/v2/team/policy/manifests/')) {
    // Serves the same manifest whatever digest is asked for, like a compromised mirror would.
    response.writeHead(200, { 'content-type': MediaType.OciManifest }).end(MANIFEST);
    return;
  }
  if (url.pathname === `/v2/team/policy/blobs/${LAYER_DIGEST}`) {
    // Blob storage on another host name: the registry's token must not follow the redirect.
    const port = (server.address() as AddressInfo).port;
    response.writeHead(307, { location: `http://localhost:${port}/storage/${LAYER_DIGEST}` }).end();
    return;
  }
  response.writeHead(404).end();
}

const credentials = (password: string): RegistryCredentials => ({
  origin: 'test credentials',
  lookup: (registry) => Promise.resolve(registry === host ? { username: 'alice', password } : undefined),
});

const client = (password: string) =>
  new ModuleDistributionClient({
    sources: { insecureSources: [host], sourceAuthorities: {} },
    credentials: credentials(password),
    retry: { attempts: 1 },
  });

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('Bearer token flow (fake registry and token realm on node:http)', () => {
  it('gets a token with basic credentials, caches it per scope, and keeps it off redirects to other hosts', async () => {
    tokenRequests.length = 0;
    const downloader = client('secret');
    try {
      const resolved = await downloader.resolve(`registry://${host}/team/policy:v1`);
      expect(resolved).toMatchObject({ manifestDigest: MANIFEST_DIGEST, sha256: LAYER_DIGEST.slice(7) });
      const downloaded = await downloader.download(`${host}/team/policy:v1`);
      expect(downloaded.bytes).toEqual(MODULE);
      expect(downloaded.immutableReference).toBe(`${host}/team/policy@${MANIFEST_DIGEST}`);
    } finally {
      await downloader.close();
    }
    expect(tokenRequests).toEqual([
      {
        authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}`,
        scope: SCOPE,
        service: 'fake-registry',
      },
    ]);
    expect(storageAuthorizations).toEqual([undefined]);
  });

  it('reports rejected credentials at the token service as unauthorized', async () => {
    const downloader = client('wrong');
    try {
      await expect(downloader.download(`${host}/team/policy:v1`)).rejects.toMatchObject({
        code: OciErrorCode.Unauthorized,
        message: expect.stringContaining('refused the credentials from test credentials') as string,
      });
    } finally {
      await downloader.close();
    }
  });

  it('verifies a pinned manifest digest, naming both digests', async () => {
    const pinned = `sha256:${'0'.repeat(64)}`;
    const downloader = client('secret');
    try {
      await expect(downloader.download(`${host}/team/policy@${pinned}`)).rejects.toMatchObject({
        code: OciErrorCode.DigestMismatch,
        message: expect.stringMatching(new RegExp(`expected ${pinned}, got ${MANIFEST_DIGEST}`)) as string,
      });
    } finally {
      await downloader.close();
    }
  });
});
