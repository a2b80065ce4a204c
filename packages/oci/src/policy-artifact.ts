import type { ProgressListener } from './body-reader.js';
import { sha256Digest, verifyDigest } from './digest.js';
import { OciError, OciErrorCode } from './errors.js';
import {
  encodePolicyManifest,
  findWasmLayer,
  MediaType,
  parseManifest,
  selectIndexEntry,
} from './manifest.js';
import type { Descriptor } from './manifest.js';
import { formatOciReference } from './oci-reference.js';
import type { OciReference } from './oci-reference.js';
import type { RegistryRepository } from './registry-repository.js';
import { assertWasmMagic } from './wasm-magic.js';

/**
 * The config blob of a Wasm policy artifact is exactly `{}`
 * (docs/kubewarden-compatibility.md#oci-artifact-layout).
 */
const CONFIG_BLOB = new Uint8Array(Buffer.from('{}', 'utf8'));

/** A policy reference resolved to the manifest it names and that manifest's Wasm layer. */
export interface ResolvedPolicy {
  manifestDigest: string;
  layer: Descriptor;
}

/**
 * Resolves a reference without downloading the module: the manifest (through an index if
 * need be), its digest verified when the reference is pinned, and its first Wasm layer.
 */
export async function resolvePolicy(
  repository: RegistryRepository,
  reference: OciReference,
): Promise<ResolvedPolicy> {
  const where = formatOciReference(reference);
  const fetched = await repository.getManifest(reference.digest ?? reference.tag ?? 'latest');
  if (reference.digest) verifyDigest(`manifest of ${where}`, reference.digest, fetched.digest);
  const document = parseManifest(fetched.bytes, fetched.contentType, `manifest of ${where}`);
  if (document.kind === 'manifest') {
    return {
      manifestDigest: fetched.digest,
      layer: findWasmLayer(document.manifest, `manifest of ${where}`),
    };
  }

  const entry = selectIndexEntry(document.manifests, `manifest of ${where}`);
  const inner = await repository.getManifest(entry.digest);
  const innerWhere = `manifest ${entry.digest} of ${where}`;
  verifyDigest(innerWhere, entry.digest, inner.digest);
  const innerDocument = parseManifest(inner.bytes, inner.contentType, innerWhere);
  if (innerDocument.kind === 'index') {
    throw new OciError(
      OciErrorCode.ManifestInvalid,
      `${innerWhere} is a nested index; pull a manifest by digest`,
    );
  }
  return { manifestDigest: inner.digest, layer: findWasmLayer(innerDocument.manifest, innerWhere) };
}

/** Downloads and verifies the Wasm layer of a resolved policy. */
export async function pullPolicy(
  repository: RegistryRepository,
  resolved: ResolvedPolicy,
  options: { limit: number; onProgress?: ProgressListener | undefined },
): Promise<Uint8Array> {
  const bytes = await repository.getBlob(resolved.layer, options);
  assertWasmMagic(bytes, `layer ${resolved.layer.digest} of ${repository.registry}/${repository.repository}`);
  return bytes;
}

/**
 * Pushes a module as `kwctl push` does (docs/kubewarden-compatibility.md#oci-artifact-layout): config blob
 * `{}`, one raw Wasm layer, a manifest with the given annotations. Blobs the repository already has are not
 * sent again. Returns the manifest digest.
 */
export async function pushPolicy(
  repository: RegistryRepository,
  tag: string,
  module: Uint8Array,
  options: {
    annotations?: Record<string, string>;
    chunkSize: number;
    onProgress?: ProgressListener | undefined;
  },
): Promise<string> {
  assertWasmMagic(module, 'the module to push');
  const config = {
    mediaType: MediaType.WasmConfig,
    digest: sha256Digest(CONFIG_BLOB),
    size: CONFIG_BLOB.byteLength,
  };
  const layer = { mediaType: MediaType.WasmLayer, digest: sha256Digest(module), size: module.byteLength };

  if (!(await repository.blobExists(config.digest))) {
    await repository.uploadBlob(CONFIG_BLOB, config.digest, { chunkSize: options.chunkSize });
  }
  if (await repository.blobExists(layer.digest)) {
    options.onProgress?.(module.byteLength, module.byteLength);
  } else {
    await repository.uploadBlob(module, layer.digest, options);
  }

  const annotations = options.annotations ?? {};
  const manifest = encodePolicyManifest({
    config,
    layers: [layer],
    ...(Object.keys(annotations).length > 0 && { annotations }),
  });
  return repository.putManifest(tag, manifest, MediaType.OciManifest);
}
