import { describe, expect, it } from 'vitest';
import { OciErrorCode } from './errors.js';
import {
  encodePolicyManifest,
  findWasmLayer,
  MediaType,
  parseManifest,
  selectIndexEntry,
} from './manifest.js';
import type { Descriptor } from './manifest.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const json = (value: unknown) => new Uint8Array(Buffer.from(JSON.stringify(value)));
const layer = (mediaType: string, d = 'a'): Descriptor => ({ mediaType, digest: digest(d), size: 10 });

describe('parseManifest', () => {
  it('reads an image manifest without mediaType, and an index by content type or shape', () => {
    const manifest = {
      schemaVersion: 2,
      config: layer(MediaType.WasmConfig),
      layers: [layer(MediaType.WasmLayer)],
    };
    expect(parseManifest(json(manifest), MediaType.OciManifest, 'm')).toEqual({
      kind: 'manifest',
      manifest: { config: manifest.config, layers: manifest.layers },
    });
    const index = {
      schemaVersion: 2,
      manifests: [{ ...layer(MediaType.OciManifest), platform: { os: 'wasi', architecture: 'wasm' } }],
    };
    expect(
      parseManifest(json(index), 'application/vnd.oci.image.index.v1+json; charset=utf-8', 'i'),
    ).toMatchObject({
      kind: 'index',
    });
  });

  it.each([
    ['not json', 'not JSON'],
    [JSON.stringify({ schemaVersion: 1 }), 'schemaVersion'],
    [JSON.stringify({ schemaVersion: 2, config: {}, layers: [] }), 'config.mediaType'],
    [
      JSON.stringify({ schemaVersion: 2, config: { mediaType: 'x', digest: 'md5:1', size: 1 }, layers: [] }),
      'config.digest',
    ],
  ])('rejects %s', (text, why) => {
    expect(() => parseManifest(new Uint8Array(Buffer.from(text)), undefined, 'm')).toThrow(
      expect.objectContaining({ code: OciErrorCode.ManifestInvalid }),
    );
    expect(() => parseManifest(new Uint8Array(Buffer.from(text)), undefined, 'm')).toThrow(why);
  });
});

describe('selectIndexEntry', () => {
  const linux = { ...layer(MediaType.OciManifest, 'b'), platform: { os: 'linux', architecture: 'amd64' } };
  const wasi = { ...layer(MediaType.OciManifest, 'c'), platform: { os: 'wasi', architecture: 'wasm' } };

  it('takes the only entry, else the only Wasm one', () => {
    expect(selectIndexEntry([linux], 'i')).toBe(linux);
    expect(selectIndexEntry([linux, wasi], 'i')).toBe(wasi);
  });

  it('names the choices when ambiguous', () => {
    const other = { ...linux, digest: digest('d'), platform: { os: 'linux', architecture: 'arm64' } };
    expect(() => selectIndexEntry([linux, other], 'i')).toThrow(
      expect.objectContaining({ code: OciErrorCode.IndexAmbiguous }),
    );
    expect(() => selectIndexEntry([linux, other], 'i')).toThrow(`${digest('d')} (linux/arm64)`);
  });
});

describe('findWasmLayer and encodePolicyManifest', () => {
  it('takes the first Wasm layer and fails without one', () => {
    const first = layer(MediaType.WasmLayer, 'e');
    const manifest = {
      config: layer(MediaType.WasmConfig),
      layers: [layer('text/plain'), first, layer(MediaType.WasmLayer, 'f')],
    };
    expect(findWasmLayer(manifest, 'm')).toBe(first);
    expect(() => findWasmLayer({ ...manifest, layers: [] }, 'm')).toThrow(
      expect.objectContaining({ code: OciErrorCode.NoWasmLayer }),
    );
  });

  it('writes the kwctl layout: no top-level mediaType', () => {
    const bytes = encodePolicyManifest({
      config: layer(MediaType.WasmConfig),
      layers: [layer(MediaType.WasmLayer)],
      annotations: { a: 'b' },
    });
    const document = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(document)).toEqual(['schemaVersion', 'config', 'layers', 'annotations']);
  });
});
