import { OciError, OciErrorCode } from './errors.js';

/**
 * Media types of OCI manifests and of Kubewarden's Wasm artifacts
 * (docs/kubewarden-compatibility.md#oci-artifact-layout).
 */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  WasmConfig: 'application/vnd.wasm.config.v1+json',
  WasmLayer: 'application/vnd.wasm.content.layer.v1+wasm',
} as const;

/** Every manifest kind we read; a registry answers 404 to a manifest GET whose Accept lacks its type. */
export const MANIFEST_ACCEPT = [
  MediaType.OciManifest,
  MediaType.OciIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
].join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string };
}

export interface ImageManifest {
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export type ManifestDocument =
  { kind: 'manifest'; manifest: ImageManifest } | { kind: 'index'; manifests: Descriptor[] };

const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList]);
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Reads an image manifest or an index; `where` names it in errors. */
export function parseManifest(
  bytes: Uint8Array,
  contentType: string | undefined,
  where: string,
): ManifestDocument {
  const invalid = (why: string) =>
    new OciError(OciErrorCode.ManifestInvalid, `${where} is not a usable manifest: ${why}`);
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw invalid('it is not JSON');
  }
  if (!isObject(document)) throw invalid('it is not a JSON object');
  if (document.schemaVersion !== 2)
    throw invalid(`schemaVersion is ${String(document.schemaVersion)}, not 2`);
  const mediaType =
    typeof document.mediaType === 'string' ? document.mediaType : contentType?.split(';')[0]?.trim();
  if ((mediaType !== undefined && INDEX_TYPES.has(mediaType)) || Array.isArray(document.manifests)) {
    if (!Array.isArray(document.manifests)) throw invalid('the index has no manifests list');
    return {
      kind: 'index',
      manifests: document.manifests.map((entry, i) => descriptor(entry, `manifests[${i}]`, invalid)),
    };
  }
  if (!Array.isArray(document.layers)) throw invalid('it has no layers list');
  const annotations = document.annotations;
  return {
    kind: 'manifest',
    manifest: {
      config: descriptor(document.config, 'config', invalid),
      layers: document.layers.map((layer, i) => descriptor(layer, `layers[${i}]`, invalid)),
      ...(isObject(annotations) && { annotations: stringValues(annotations) }),
    },
  };
}

/**
 * The entry of an index to pull: the only one, else the only one for wasi/wasm or without a
 * platform; anything else is ambiguous and names the choices.
 */
export function selectIndexEntry(manifests: Descriptor[], where: string): Descriptor {
  if (manifests.length === 1) return manifests[0]!;
  const wasm = manifests.filter(
    (entry) => !entry.platform || entry.platform.os === 'wasi' || entry.platform.architecture === 'wasm',
  );
  if (wasm.length === 1) return wasm[0]!;
  const choices = manifests
    .map(
      (entry) =>
        `${entry.digest} (${entry.platform ? `${entry.platform.os}/${entry.platform.architecture}` : 'no platform'})`,
    )
    .join(', ');
  throw new OciError(
    OciErrorCode.IndexAmbiguous,
    manifests.length === 0
      ? `${where} is an empty index`
      : `${where} is an index with no single Wasm entry; pull one of these by digest: ${choices}`,
  );
}

/**
 * The first layer with the Wasm media type, as Kubewarden takes it
 * (docs/kubewarden-compatibility.md#oci-artifact-layout).
 */
export function findWasmLayer(manifest: ImageManifest, where: string): Descriptor {
  const layer = manifest.layers.find((candidate) => candidate.mediaType === MediaType.WasmLayer);
  if (!layer) {
    const found = manifest.layers.map((candidate) => candidate.mediaType).join(', ') || 'no layers';
    throw new OciError(
      OciErrorCode.NoWasmLayer,
      `${where} has no ${MediaType.WasmLayer} layer (found: ${found}); it is not a Wasm policy artifact`,
    );
  }
  return layer;
}

/**
 * The manifest `kwctl push` writes (docs/kubewarden-compatibility.md#oci-artifact-layout): no top-level
 * `mediaType`; it is PUT with the OCI manifest content type instead.
 */
export function encodePolicyManifest(manifest: ImageManifest): Uint8Array {
  const descriptorJson = ({ mediaType, digest, size }: Descriptor) => ({ mediaType, digest, size });
  const document = {
    schemaVersion: 2,
    config: descriptorJson(manifest.config),
    layers: manifest.layers.map(descriptorJson),
    ...(manifest.annotations && { annotations: manifest.annotations }),
  };
  return Buffer.from(JSON.stringify(document), 'utf8');
}

function descriptor(value: unknown, field: string, invalid: (why: string) => OciError): Descriptor {
  if (!isObject(value)) throw invalid(`${field} is not a descriptor`);
  const { mediaType, digest, size, platform } = value;
  if (typeof mediaType !== 'string') throw invalid(`${field}.mediaType is missing`);
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    throw invalid(`${field}.digest must be sha256:<64 hex digits> (got ${JSON.stringify(digest)})`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${field}.size must be a non-negative integer`);
  }
  return {
    mediaType,
    digest,
    size,
    ...(isObject(platform) && {
      platform: {
        ...(typeof platform.os === 'string' && { os: platform.os }),
        ...(typeof platform.architecture === 'string' && { architecture: platform.architecture }),
      },
    }),
  };
}

function stringValues(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
