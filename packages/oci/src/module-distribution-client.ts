import type { ProgressListener } from './body-reader.js';
import { MAX_REMEMBERED_HOSTS, SourceConnections } from './connections.js';
import { sha256Hex } from '@castellan/proto';
import { ANONYMOUS_CREDENTIALS } from './credentials.js';
import type { RegistryCredentials } from './credentials.js';
import { OciError, OciErrorCode } from './errors.js';
import { readFileModule } from './file-module.js';
import { HttpTransport } from './http-transport.js';
import { downloadHttpModule } from './https-module.js';
import { LruMap } from './lru-map.js';
import { formatModuleUrl, parseModuleUrl } from './module-url.js';
import type { ModuleUrl } from './module-url.js';
import { NetworkAccess } from './network-access.js';
import { formatOciReference } from './oci-reference.js';
import type { OciReference } from './oci-reference.js';
import { pullPolicy, pushPolicy, resolvePolicy } from './policy-artifact.js';
import type { ProxySettings } from './proxies.js';
import { RegistryAuthenticator } from './registry-auth.js';
import { RegistryRepository } from './registry-repository.js';
import { DEFAULT_RETRY_POLICY } from './retry.js';
import type { RetryPolicy } from './retry.js';
import { DEFAULT_SOURCES } from './sources.js';
import type { SourcesConfig } from './sources.js';

/** Default limit on a module's size: well above real policies (a few MiB), far below memory trouble. */
export const DEFAULT_MAX_MODULE_BYTES = 64 * 1024 * 1024;
/** Blobs up to this size are uploaded in one PUT; larger ones in chunks of this size. */
export const DEFAULT_CHUNK_SIZE = 5 * 1024 * 1024;

/** How a client connects, authenticates, retries, and how large a module it accepts. */
export interface ModuleDistributionOptions {
  /** sources.yml: extra CAs and insecure hosts; default none. */
  sources?: SourcesConfig;
  /** Proxies, usually `proxiesFromEnv(process.env)`; default none. */
  proxies?: ProxySettings;
  /** Registry credentials, usually `loadDockerCredentials()`; default anonymous. */
  credentials?: RegistryCredentials;
  retry?: Partial<RetryPolicy>;
  /** Modules larger than this are refused while downloading; default 64 MiB. */
  maxModuleBytes?: number;
  /**
   * When set, loopback, link-local, unspecified and private addresses are refused (registries
   * and web servers alike, redirects included) except within these CIDR networks. Default: every
   * address is reached, as a command-line user expects of their own machine.
   */
  allowedNetworks?: readonly string[];
}

/** A module URL resolved without downloading the module. */
export type ResolvedModule =
  | {
      scheme: 'registry';
      canonicalUrl: string;
      manifestDigest: string;
      /** `host/repo@sha256:…`: pulls exactly this manifest from now on. */
      immutableReference: string;
      /** Hex sha256 of the module (the Wasm layer), to recognise a module already held. */
      sha256: string;
      size: number;
    }
  | { scheme: 'https' | 'http' | 'file'; canonicalUrl: string };

/** A verified module and where it came from. */
export interface DownloadedModule {
  bytes: Uint8Array;
  /** Hex sha256 of `bytes`. */
  sha256: string;
  canonicalUrl: string;
  /** For registry modules: the digest of the manifest pulled. */
  manifestDigest?: string;
  immutableReference?: string;
}

/** The manifest a push wrote, and the reference that pulls exactly it. */
export interface PushedModule {
  manifestDigest: string;
  immutableReference: string;
}

/** Annotations, upload chunking and progress of a push. */
export interface PushOptions {
  /** Manifest annotations, usually `manifestAnnotations(metadata.annotations)`. */
  annotations?: Record<string, string>;
  /** Chunk size of uploads; blobs larger than it are sent in chunks. Default 5 MiB. */
  chunkSize?: number;
  onProgress?: ProgressListener;
}

/**
 * Fetches policy modules from registries (`registry://`), web servers (`https://`, `http://`)
 * and local files (`file://`), and pushes them to registries as Kubewarden Wasm artifacts.
 */
export class ModuleDistributionClient {
  readonly #connections: SourceConnections;
  readonly #transport: HttpTransport;
  readonly #credentials: RegistryCredentials;
  readonly #retry: RetryPolicy;
  readonly #maxModuleBytes: number;
  readonly #authenticators = new LruMap<string, RegistryAuthenticator>(MAX_REMEMBERED_HOSTS);

  constructor(options: ModuleDistributionOptions = {}) {
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#connections = new SourceConnections(
      options.sources ?? DEFAULT_SOURCES,
      options.proxies ?? {},
      options.allowedNetworks && new NetworkAccess(options.allowedNetworks),
    );
    this.#transport = new HttpTransport(this.#connections, this.#retry);
    this.#credentials = options.credentials ?? ANONYMOUS_CREDENTIALS;
    this.#maxModuleBytes = options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES;
  }

  /** Resolves a module URL; for registries, to its manifest and module digests without downloading the module. */
  async resolve(url: string | ModuleUrl): Promise<ResolvedModule> {
    const parsed = typeof url === 'string' ? parseModuleUrl(url) : url;
    const canonicalUrl = formatModuleUrl(parsed);
    if (parsed.scheme !== 'registry') return { scheme: parsed.scheme, canonicalUrl };
    const resolved = await resolvePolicy(this.#repository(parsed.reference, 'pull'), parsed.reference);
    return {
      scheme: 'registry',
      canonicalUrl,
      manifestDigest: resolved.manifestDigest,
      immutableReference: immutableReference(parsed.reference, resolved.manifestDigest),
      sha256: resolved.layer.digest.slice('sha256:'.length),
      size: resolved.layer.size,
    };
  }

  /** Downloads a module, verified (digests, `\0asm` magic) and within the size limit. */
  async download(
    url: string | ModuleUrl,
    options: { onProgress?: ProgressListener } = {},
  ): Promise<DownloadedModule> {
    const parsed = typeof url === 'string' ? parseModuleUrl(url) : url;
    const canonicalUrl = formatModuleUrl(parsed);
    const limit = this.#maxModuleBytes;
    switch (parsed.scheme) {
      case 'registry': {
        const repository = this.#repository(parsed.reference, 'pull');
        const resolved = await resolvePolicy(repository, parsed.reference);
        const bytes = await pullPolicy(repository, resolved, { limit, onProgress: options.onProgress });
        return {
          bytes,
          sha256: resolved.layer.digest.slice('sha256:'.length),
          canonicalUrl,
          manifestDigest: resolved.manifestDigest,
          immutableReference: immutableReference(parsed.reference, resolved.manifestDigest),
        };
      }
      case 'https':
      case 'http': {
        const bytes = await downloadHttpModule(this.#transport, parsed.url, {
          limit,
          onProgress: options.onProgress,
        });
        return { bytes, sha256: sha256Hex(bytes), canonicalUrl };
      }
      case 'file': {
        const bytes = await readFileModule(parsed.path, limit);
        options.onProgress?.(bytes.byteLength, bytes.byteLength);
        return { bytes, sha256: sha256Hex(bytes), canonicalUrl };
      }
    }
  }

  /** Pushes a module to a registry tag as a Kubewarden Wasm artifact. */
  async push(module: Uint8Array, url: string | ModuleUrl, options: PushOptions = {}): Promise<PushedModule> {
    const parsed = typeof url === 'string' ? parseModuleUrl(url) : url;
    const reference = parsed.scheme === 'registry' ? parsed.reference : undefined;
    if (reference?.tag === undefined || reference.digest !== undefined) {
      throw new OciError(
        OciErrorCode.InvalidReference,
        `cannot push to ${formatModuleUrl(parsed)}: push needs a registry reference with a tag and no digest`,
      );
    }
    const manifestDigest = await pushPolicy(this.#repository(reference, 'push'), reference.tag, module, {
      ...(options.annotations && { annotations: options.annotations }),
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      onProgress: options.onProgress,
    });
    return { manifestDigest, immutableReference: immutableReference(reference, manifestDigest) };
  }

  /** Closes pooled connections. */
  close(): Promise<void> {
    return this.#connections.close();
  }

  #repository(reference: OciReference, action: 'pull' | 'push'): RegistryRepository {
    let authenticator = this.#authenticators.get(reference.registry);
    if (!authenticator) {
      authenticator = new RegistryAuthenticator(reference.registry, this.#credentials, this.#transport);
      this.#authenticators.set(reference.registry, authenticator);
    }
    return new RegistryRepository(
      this.#transport,
      authenticator,
      this.#retry,
      reference.registry,
      reference.repository,
      action,
    );
  }
}

function immutableReference(reference: OciReference, manifestDigest: string): string {
  return formatOciReference({
    registry: reference.registry,
    repository: reference.repository,
    digest: manifestDigest,
  });
}
