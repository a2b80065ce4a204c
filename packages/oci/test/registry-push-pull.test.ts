import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinary } from '../../../test/harness/binaries.js';
import { startRegistry } from '../../../test/harness/registry.js';
import type { TestRegistry } from '../../../test/harness/registry.js';
import {
  loadDockerCredentials,
  manifestAnnotations,
  MediaType,
  ModuleDistributionClient,
} from '../src/index.js';
import { uniquePolicy } from '../../../test/fixtures/unique-policy.js';

const run = promisify(execFile);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const FAST_RETRY = { attempts: 2, baseDelayMs: 10 };

let plain: TestRegistry;
let secured: TestRegistry;
let dir: string;

beforeAll(async () => {
  [plain, secured] = await Promise.all([
    startRegistry(),
    startRegistry({ tls: true, auth: { username: 'alice', password: 'wonderland' } }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'castellan-oci-test-'));
});
afterAll(async () => {
  await Promise.all([plain?.stop(), secured?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A client for the plain-HTTP registry: like kwctl, it must be listed as insecure. */
const plainClient = (options: { maxModuleBytes?: number } = {}) =>
  new ModuleDistributionClient({
    sources: { insecureSources: [plain.host], sourceAuthorities: {} },
    retry: FAST_RETRY,
    ...options,
  });

async function securedClient(): Promise<ModuleDistributionClient> {
  const configDir = await mkdtemp(join(dir, 'docker-'));
  const auth = Buffer.from(`${secured.username}:${secured.password}`).toString('base64');
  await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: { [secured.host]: { auth } } }));
  return new ModuleDistributionClient({
    sources: { insecureSources: [], sourceAuthorities: { [secured.host]: [secured.caPem!] } },
    credentials: await loadDockerCredentials(configDir),
    retry: FAST_RETRY,
  });
}

async function skopeoManifest(registry: TestRegistry, reference: string): Promise<Record<string, unknown>> {
  const skopeo = await requireBinary('skopeo');
  const creds = registry.username ? ['--creds', `${registry.username}:${registry.password}`] : [];
  const { stdout } = await run(skopeo, [
    'inspect',
    '--raw',
    '--tls-verify=false',
    ...creds,
    `docker://${registry.host}/${reference}`,
  ]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('push, resolve and download against docker-registry', () => {
  it('round-trips a policy on a plain-HTTP registry, with the kwctl artifact layout', async () => {
    const module = await uniquePolicy('plain round trip');
    const client = plainClient();
    try {
      const pushed = await client.push(module, `registry://${plain.host}/policies/pod-privileged:v1`, {
        annotations: manifestAnnotations({ 'io.kubewarden.policy.title': ' pod-privileged ', multi: 'a\nb' }),
      });
      expect(pushed.immutableReference).toBe(
        `${plain.host}/policies/pod-privileged@${pushed.manifestDigest}`,
      );

      const resolved = await client.resolve(`${plain.host}/policies/pod-privileged:v1`);
      expect(resolved).toEqual({
        scheme: 'registry',
        canonicalUrl: `registry://${plain.host}/policies/pod-privileged:v1`,
        manifestDigest: pushed.manifestDigest,
        immutableReference: pushed.immutableReference,
        sha256: sha256(module),
        size: module.byteLength,
      });

      const progress: [number, number | undefined][] = [];
      const downloaded = await client.download(`registry://${pushed.immutableReference}`, {
        onProgress: (received, total) => progress.push([received, total]),
      });
      expect(downloaded.bytes).toEqual(module);
      expect(downloaded.sha256).toBe(sha256(module));
      expect(downloaded.manifestDigest).toBe(pushed.manifestDigest);
      expect(progress.at(-1)).toEqual([module.byteLength, module.byteLength]);
    } finally {
      await client.close();
    }

    const manifest = await skopeoManifest(plain, 'policies/pod-privileged:v1');
    expect(manifest).not.toHaveProperty('mediaType');
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      config: { mediaType: MediaType.WasmConfig, size: 2 },
      layers: [
        { mediaType: MediaType.WasmLayer, digest: `sha256:${sha256(module)}`, size: module.byteLength },
      ],
      annotations: { 'io.kubewarden.policy.title': 'pod-privileged' },
    });
  });

  it('round-trips on a TLS registry with basic auth, trusting its CA through source_authorities', async () => {
    const module = await uniquePolicy('secured round trip');
    const client = await securedClient();
    try {
      const pushed = await client.push(module, `${secured.host}/team/policy:1.0.0`);
      const downloaded = await client.download(`registry://${secured.host}/team/policy:1.0.0`);
      expect(downloaded.bytes).toEqual(module);
      expect(downloaded.manifestDigest).toBe(pushed.manifestDigest);
    } finally {
      await client.close();
    }
    const manifest = await skopeoManifest(secured, 'team/policy:1.0.0');
    expect(manifest).not.toHaveProperty('mediaType');
    expect(manifest).toMatchObject({
      config: { mediaType: MediaType.WasmConfig },
      layers: [{ mediaType: MediaType.WasmLayer }],
    });
  });

  it('uploads large blobs in chunks and pulls them back intact', async () => {
    const module = await uniquePolicy('chunked', 300 * 1024);
    const client = plainClient();
    const progress: number[] = [];
    try {
      await client.push(module, `${plain.host}/policies/large:v1`, {
        chunkSize: 64 * 1024,
        onProgress: (sent) => progress.push(sent),
      });
      const downloaded = await client.download(`${plain.host}/policies/large:v1`);
      expect(sha256(downloaded.bytes)).toBe(sha256(module));
    } finally {
      await client.close();
    }
    // One report per 64 KiB chunk, then the closing PUT.
    expect(progress.length).toBeGreaterThanOrEqual(Math.ceil(module.byteLength / (64 * 1024)) + 1);
    expect(progress.at(-1)).toBe(module.byteLength);
  });

  it('resolves an index to its wasi/wasm entry', async () => {
    const module = await uniquePolicy('index');
    const client = plainClient();
    try {
      const pushed = await client.push(module, `${plain.host}/policies/indexed:single`);
      const { size } = await stat(plain.blobDataPath(pushed.manifestDigest));
      const entry = { mediaType: MediaType.OciManifest, digest: pushed.manifestDigest, size };
      const index = await fetch(`http://${plain.host}/v2/policies/indexed/manifests/multi`, {
        method: 'PUT',
        headers: { 'content-type': MediaType.OciIndex },
        body: JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciIndex,
          manifests: [
            { ...entry, platform: { os: 'linux', architecture: 'amd64' } },
            { ...entry, platform: { os: 'wasi', architecture: 'wasm' } },
          ],
        }),
      });
      expect(index.status).toBe(201);
      const downloaded = await client.download(`${plain.host}/policies/indexed:multi`);
      expect(downloaded.bytes).toEqual(module);
      expect(downloaded.manifestDigest).toBe(pushed.manifestDigest);
    } finally {
      await client.close();
    }
  });

  it('pushes the same module twice without uploading its blobs again', async () => {
    const module = await uniquePolicy('twice');
    const client = plainClient();
    try {
      const first = await client.push(module, `${plain.host}/policies/twice:a`);
      const progress: [number, number | undefined][] = [];
      const second = await client.push(module, `${plain.host}/policies/twice:b`, {
        onProgress: (sent, total) => progress.push([sent, total]),
      });
      expect(second.manifestDigest).toBe(first.manifestDigest);
      // An upload reports its start, then its end; a blob already there reports completion once.
      expect(progress).toEqual([[module.byteLength, module.byteLength]]);
    } finally {
      await client.close();
    }
  });
});
