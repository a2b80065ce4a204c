import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModuleUrl } from '@castellan/oci';
import { sha256Hex } from '@castellan/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultStoreRoot, PolicyStore } from './policy-store.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('PolicyStore.pathOf', () => {
  const store = new PolicyStore('/store');
  it.each([
    [
      'registry://ghcr.io/kubewarden/policies/pod-privileged:v0.1.9',
      'registry/ghcr.io/kubewarden/policies/pod-privileged:v0.1.9',
    ],
    ['registry://localhost:5000/psp', 'registry/localhost:5000/psp:latest'],
    ['ghcr.io/org/p', 'registry/ghcr.io/org/p:latest'],
    [`registry://ghcr.io/org/p@${DIGEST}`, `registry/ghcr.io/org/p@${DIGEST}`],
    [`registry://ghcr.io/org/p:v1@${DIGEST}`, `registry/ghcr.io/org/p@${DIGEST}`],
    ['https://example.com:8443/dl/policy.wasm', 'https/example.com:8443/dl/policy.wasm'],
    ['http://example.com/a/../b/%2e%2e/policy.wasm', 'http/example.com/policy.wasm'],
  ])('stores %s under %s', (url, path) => {
    expect(store.pathOf(parseModuleUrl(url))).toBe(`/store/${path}`);
  });

  it('refuses URLs that name no file, and local files', () => {
    expect(() => store.pathOf(parseModuleUrl('https://example.com/dir/'))).toThrow(/names no file/);
    expect(() => store.pathOf(parseModuleUrl('file:///tmp/p.wasm'))).toThrow(/used in place/);
  });
});

describe('defaultStoreRoot', () => {
  it('prefers CASTELLAN_STORE_DIR, then XDG_CACHE_HOME, as kwctl uses the user cache dir', () => {
    expect(defaultStoreRoot({ CASTELLAN_STORE_DIR: '/s', XDG_CACHE_HOME: '/c' })).toBe('/s');
    expect(defaultStoreRoot({ XDG_CACHE_HOME: '/c' })).toBe('/c/castellan/store');
  });
});

describe('PolicyStore save, list and remove (temp dir)', () => {
  let root: string;
  let store: PolicyStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'castellan-store-'));
    store = new PolicyStore(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('lists saved modules by URL with their digest, skipping partial writes', async () => {
    await store.save(parseModuleUrl('registry://r.io/a/one:v1'), new Uint8Array([1]));
    await store.save(parseModuleUrl('https://w.io/two.wasm'), new Uint8Array([2, 2]));
    await writeFile(join(root, 'registry', 'r.io', 'a', '.abc.partial'), 'x');
    const listed = await store.list();
    expect(listed.map((p) => [p.url, p.size])).toEqual([
      ['https://w.io/two.wasm', 2],
      ['registry://r.io/a/one:v1', 1],
    ]);
    expect(listed[1]?.sha256).toBe('4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a');
  });

  it('removes by sha256 prefix one stored module, and refuses a prefix that names several', async () => {
    await store.save(parseModuleUrl('registry://r.io/a/one:v1'), new Uint8Array([1]));
    await store.save(parseModuleUrl('registry://r.io/a/one:v2'), new Uint8Array([1]));
    await store.save(parseModuleUrl('registry://r.io/b/other:v1'), new Uint8Array([3]));
    await expect(store.remove('sha256:')).rejects.toThrow(/holds no policy/);
    // Two copies of one module: the prefix does not say which one goes.
    await expect(store.remove('sha256:4bf5')).rejects.toThrow(
      /matches 2 stored copies of one module \(registry:\/\/r.io\/a\/one:v1, registry:\/\/r.io\/a\/one:v2\): give the URL/,
    );
    expect((await store.remove('registry://r.io/a/one:v1')).map((p) => p.url)).toEqual([
      'registry://r.io/a/one:v1',
    ]);
    expect((await store.remove('4bf5')).map((p) => p.url)).toEqual(['registry://r.io/a/one:v2']);
    expect(await readdir(join(root, 'registry', 'r.io'))).toEqual(['b']);
    // A registry manifest digest is not a module's sha256: the refusal says so.
    await expect(store.remove(`sha256:${'f'.repeat(64)}`)).rejects.toThrow(
      /nor a module whose sha256 starts with f{64}.*a registry manifest digest, as `push` prints, is not a module's sha256/,
    );
    // A second module whose digest starts with the same hex digit as [3]'s.
    const digit = sha256Hex(new Uint8Array([3])).charAt(0);
    let byte = 4;
    while (sha256Hex(new Uint8Array([byte])).charAt(0) !== digit) byte++;
    await store.save(parseModuleUrl('registry://r.io/b/other:v2'), new Uint8Array([byte]));
    await expect(store.remove(digit)).rejects.toThrow(/matches 2 different policies .*: give more digits/);
  });
});
