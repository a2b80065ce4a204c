import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry } from '../../../test/harness/registry.js';
import type { TestRegistry } from '../../../test/harness/registry.js';
import { MediaType, ModuleDistributionClient, OciErrorCode } from '../src/index.js';
import type { ModuleDistributionOptions, RegistryCredentials } from '../src/index.js';
import { uniquePolicy } from '../../../test/fixtures/unique-policy.js';

const FAST_RETRY = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };
const digestOf = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

let plain: TestRegistry;
let secured: TestRegistry;

beforeAll(async () => {
  [plain, secured] = await Promise.all([
    startRegistry(),
    startRegistry({ tls: true, auth: { username: 'alice', password: 'wonderland' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([plain?.stop(), secured?.stop()]);
});

/** Runs `body` with a client, closing it whatever happens. */
async function withClient<T>(
  options: ModuleDistributionOptions,
  body: (client: ModuleDistributionClient) => Promise<T>,
): Promise<T> {
  const client = new ModuleDistributionClient({ retry: FAST_RETRY, ...options });
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

const onPlain = (options: ModuleDistributionOptions = {}) => ({
  sources: { insecureSources: [plain.host], sourceAuthorities: {} },
  ...options,
});

const securedCredentials = (password: string): RegistryCredentials => ({
  origin: '/home/test/.docker/config.json',
  lookup: () => Promise.resolve({ username: 'alice', password }),
});

/** Pushes a manifest whose Wasm-typed layer holds `layer`, bypassing the client's own checks. */
async function pushRawArtifact(
  host: string,
  repository: string,
  tag: string,
  layer: Uint8Array,
): Promise<void> {
  const upload = async (bytes: Uint8Array) => {
    const digest = digestOf(bytes);
    const started = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    const location = `${started.headers.get('location')!}&digest=${encodeURIComponent(digest)}`;
    const put = await fetch(location, { method: 'PUT', body: bytes.slice() });
    expect(put.status).toBe(201);
    return { digest, size: bytes.byteLength };
  };
  const config = await upload(new Uint8Array(Buffer.from('{}')));
  const blob = await upload(layer);
  const manifest = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': MediaType.OciManifest },
    body: JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: MediaType.WasmConfig, ...config },
      layers: [{ mediaType: MediaType.WasmLayer, ...blob }],
    }),
  });
  expect(manifest.status).toBe(201);
}

describe('registry failures', () => {
  it('refuses a manifest whose content does not match the pinned digest, naming both digests', async () => {
    const module = await uniquePolicy('tampered manifest');
    await withClient(onPlain(), async (client) => {
      const { manifestDigest } = await client.push(module, `${plain.host}/failures/manifest:v1`);
      const path = plain.blobDataPath(manifestDigest);
      const tampered = (await readFile(path, 'utf8')).replace('"schemaVersion":2', '"schemaVersion":2 ');
      await writeFile(path, tampered);
      const error = await client
        .download(`${plain.host}/failures/manifest@${manifestDigest}`)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: OciErrorCode.DigestMismatch });
      expect((error as Error).message).toContain(`expected ${manifestDigest}, got ${digestOf(tampered)}`);
    });
  });

  it('refuses a tampered layer blob', async () => {
    const module = await uniquePolicy('tampered layer');
    await withClient(onPlain(), async (client) => {
      await client.push(module, `${plain.host}/failures/layer:v1`);
      const tampered = Buffer.from(module);
      const last = tampered.length - 1;
      tampered.writeUInt8(tampered.readUInt8(last) ^ 0xff, last);
      await writeFile(plain.blobDataPath(digestOf(module)), tampered);
      const error = await client.download(`${plain.host}/failures/layer:v1`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: OciErrorCode.DigestMismatch });
      expect((error as Error).message).toContain(`layer of ${plain.host}/failures/layer digest mismatch`);
      expect((error as Error).message).toContain(`expected ${digestOf(module)}, got ${digestOf(tampered)}`);
    });
  });

  it('names the registry and repository when a repository does not exist', async () => {
    await withClient(onPlain(), async (client) => {
      const error = await client.download(`${plain.host}/no/such/repo:v1`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: OciErrorCode.NotFound });
      expect((error as Error).message).toMatch(
        new RegExp(
          `registry ${plain.host} has no manifest "v1" of repository "no/such/repo".*MANIFEST_UNKNOWN`,
        ),
      );
    });
  });

  it('refuses a module that is not WebAssembly', async () => {
    await pushRawArtifact(
      plain.host,
      'failures/not-wasm',
      'v1',
      new Uint8Array(Buffer.from('#!/bin/sh\necho hi\n')),
    );
    await withClient(onPlain(), async (client) => {
      await expect(client.download(`${plain.host}/failures/not-wasm:v1`)).rejects.toMatchObject({
        code: OciErrorCode.InvalidWasm,
        message: expect.stringContaining('invalid wasm file') as string,
      });
      await expect(
        client.push(new Uint8Array([1, 2, 3, 4]), `${plain.host}/failures/not-wasm:v2`),
      ).rejects.toMatchObject({ code: OciErrorCode.InvalidWasm });
    });
  });

  it('refuses a module larger than the size limit before downloading it', async () => {
    const module = await uniquePolicy('size limit');
    await withClient(onPlain(), (client) => client.push(module, `${plain.host}/failures/large:v1`));
    await withClient(onPlain({ maxModuleBytes: module.byteLength - 1 }), async (client) => {
      await expect(client.download(`${plain.host}/failures/large:v1`)).rejects.toMatchObject({
        code: OciErrorCode.TooLarge,
        message: expect.stringContaining(
          `is ${module.byteLength} bytes, more than ${module.byteLength - 1} bytes, the module size limit`,
        ) as string,
      });
    });
  });

  it('reports rejected and missing credentials as unauthorized, saying where credentials come from', async () => {
    const module = await uniquePolicy('auth');
    const sources = { insecureSources: [], sourceAuthorities: { [secured.host]: [secured.caPem!] } };
    await withClient({ sources, credentials: securedCredentials('wonderland') }, (client) =>
      client.push(module, `${secured.host}/failures/auth:v1`),
    );
    await withClient({ sources, credentials: securedCredentials('wrong') }, async (client) => {
      const error = await client.download(`${secured.host}/failures/auth:v1`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: OciErrorCode.Unauthorized });
      expect((error as Error).message).toContain(
        `registry ${secured.host} refused manifest "v1" of repository "failures/auth"`,
      );
      expect((error as Error).message).toContain(
        'credentials from /home/test/.docker/config.json were rejected',
      );
      expect((error as Error).message).toContain('--docker-config-json-path');
    });
    await withClient({ sources }, async (client) => {
      await expect(client.download(`${secured.host}/failures/auth:v1`)).rejects.toMatchObject({
        code: OciErrorCode.Unauthorized,
        message: expect.stringContaining(
          'requires credentials for repository "failures/auth" and none were found in the Docker config',
        ) as string,
      });
    });
  });

  it('fails on an unknown CA unless the host is insecure, then falls back to unverified HTTPS', async () => {
    const module = await uniquePolicy('tls');
    const credentials = securedCredentials('wonderland');
    const reference = `${secured.host}/failures/tls:v1`;
    await withClient({ credentials }, async (client) => {
      const error = await client.push(module, reference).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: OciErrorCode.TlsFailed });
      expect((error as Error).message).toContain(`source_authorities["${secured.host}"]`);
      expect((error as Error).message).not.toContain('\n');
    });
    await withClient(
      { credentials, sources: { insecureSources: [secured.host], sourceAuthorities: {} } },
      async (client) => {
        await client.push(module, reference);
        expect((await client.download(reference)).bytes).toEqual(module);
      },
    );
  });

  it('says in one line that a plain-HTTP registry does not speak TLS, and how to list it', async () => {
    await withClient({}, async (client) => {
      const error = await client.download(`${plain.host}/failures/plain:v1`).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: OciErrorCode.TlsFailed,
        message: `TLS connection to ${plain.host} failed: the server does not speak TLS (a plain-HTTP registry?); add its CA to source_authorities["${plain.host}"] in the sources file, or list "${plain.host}" in insecure_sources`,
      });
    });
  });

  it('gives up on a stopped registry after bounded retries', async () => {
    const doomed = await startRegistry();
    const module = await uniquePolicy('stopped');
    await withClient(
      { sources: { insecureSources: [doomed.host], sourceAuthorities: {} } },
      async (client) => {
        await client.push(module, `${doomed.host}/failures/stopped:v1`);
        await doomed.stop();
        const started = Date.now();
        const error = await client.download(`${doomed.host}/failures/stopped:v1`).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: OciErrorCode.RegistryUnavailable });
        expect((error as Error).message).toMatch(
          new RegExp(`cannot reach ${doomed.host} after 3 attempts.*ECONNREFUSED`),
        );
        expect(Date.now() - started).toBeLessThan(5_000);
      },
    );
    // A fresh client tries every connection mode of an insecure host once, and retries only the last.
    await withClient(
      { sources: { insecureSources: [doomed.host], sourceAuthorities: {} } },
      async (client) => {
        const error = await client.resolve(`${doomed.host}/failures/stopped:v1`).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: OciErrorCode.RegistryUnavailable });
        expect((error as Error).message).toContain('HTTPS without certificate verification');
      },
    );
  });
});
