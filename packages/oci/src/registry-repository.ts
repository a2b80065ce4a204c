import { contentLength, MODULE_SIZE_LIMIT, receiveBody } from './body-reader.js';
import type { ProgressListener } from './body-reader.js';
import { sha256Digest, verifyDigest } from './digest.js';
import { OciError, OciErrorCode } from './errors.js';
import { header } from './http-transport.js';
import type { HttpRequest, HttpResponse, HttpTransport, RequestAuthenticator } from './http-transport.js';
import { MANIFEST_ACCEPT } from './manifest.js';
import type { Descriptor } from './manifest.js';
import { backoffDelay, sleep } from './retry.js';
import type { RetryPolicy } from './retry.js';

/** Manifests are small JSON documents; the OCI distribution spec suggests accepting at least 4 MiB. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A fetched manifest: its exact bytes, the sha256 of those bytes, and the declared content type. */
export interface FetchedManifest {
  bytes: Uint8Array;
  digest: string;
  contentType: string | undefined;
}

/**
 * The OCI distribution protocol for one repository: manifest and blob GET, blob existence,
 * monolithic and chunked uploads, manifest PUT. `action` decides the token scope requested.
 */
export class RegistryRepository {
  readonly #scope: string;

  constructor(
    private readonly transport: HttpTransport,
    private readonly authenticator: RequestAuthenticator,
    private readonly retryPolicy: RetryPolicy,
    readonly registry: string,
    readonly repository: string,
    private readonly action: 'pull' | 'push',
  ) {
    this.#scope = `repository:${repository}:${action === 'push' ? 'pull,push' : 'pull'}`;
  }

  /** GET a manifest by tag or digest; the digest returned is computed from the bytes received. */
  getManifest(reference: string): Promise<FetchedManifest> {
    return this.#send(
      {
        method: 'GET',
        path: `manifests/${reference}`,
        object: `manifest "${reference}"`,
        accept: MANIFEST_ACCEPT,
      },
      async (response) => {
        const bytes = await receiveBody(response.body, {
          limit: MAX_MANIFEST_BYTES,
          totalBytes: contentLength(header(response, 'content-length')),
          what: `manifest "${reference}" of ${this.registry}/${this.repository}`,
          limitName: 'manifest size limit',
        });
        return { bytes, digest: sha256Digest(bytes), contentType: header(response, 'content-type') };
      },
    );
  }

  /** GET a blob, refusing more than `limit` bytes, and verify it against its descriptor's digest. */
  async getBlob(
    descriptor: Descriptor,
    options: { limit: number; onProgress?: ProgressListener | undefined },
  ): Promise<Uint8Array> {
    const bytes = await this.#send(
      {
        method: 'GET',
        path: `blobs/${descriptor.digest}`,
        object: `blob ${descriptor.digest}`,
        followRedirects: true,
      },
      (response) =>
        receiveBody(response.body, {
          limit: options.limit,
          totalBytes: descriptor.size,
          what: `module layer ${descriptor.digest} of ${this.registry}/${this.repository}`,
          limitName: MODULE_SIZE_LIMIT,
          onProgress: options.onProgress,
        }),
    );
    verifyDigest(`layer of ${this.registry}/${this.repository}`, descriptor.digest, sha256Digest(bytes));
    return bytes;
  }

  async blobExists(digest: string): Promise<boolean> {
    return this.#send(
      {
        method: 'HEAD',
        path: `blobs/${digest}`,
        object: `blob ${digest}`,
        expect: [200, 404],
        followRedirects: true,
      },
      async (response) => {
        await response.body.dump();
        return response.statusCode === 200;
      },
    );
  }

  /**
   * Uploads a blob: one POST then one PUT when it fits in `chunkSize`, else PATCHes of
   * `chunkSize` bytes with Content-Range and a closing PUT. An upload session cannot resume
   * after a failed step, so transient failures restart the whole session.
   */
  async uploadBlob(
    bytes: Uint8Array,
    digest: string,
    options: { chunkSize: number; onProgress?: ProgressListener | undefined },
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#uploadSession(bytes, digest, options);
        return;
      } catch (error) {
        const transient = error instanceof OciError && error.code === OciErrorCode.RegistryUnavailable;
        if (!transient || attempt >= this.retryPolicy.attempts) throw error;
        await sleep(backoffDelay(this.retryPolicy, attempt));
      }
    }
  }

  /** PUT a manifest under a tag; returns the digest the registry stored it under. */
  async putManifest(tag: string, bytes: Uint8Array, contentType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const stored = await this.#send(
      {
        method: 'PUT',
        path: `manifests/${tag}`,
        object: `manifest "${tag}"`,
        body: bytes,
        contentType,
        expect: [201],
      },
      async (response) => {
        await response.body.dump();
        return header(response, 'docker-content-digest');
      },
    );
    if (stored !== undefined) {
      verifyDigest(`manifest pushed to ${this.registry}/${this.repository}:${tag}`, digest, stored);
    }
    return digest;
  }

  async #uploadSession(
    bytes: Uint8Array,
    digest: string,
    options: { chunkSize: number; onProgress?: ProgressListener | undefined },
  ): Promise<void> {
    const object = `upload of blob ${digest}`;
    const upload = { object, expect: [202], retry: false };
    let location = await this.#send({ ...upload, method: 'POST', path: 'blobs/uploads/' }, (response) =>
      this.#nextLocation(response),
    );
    options.onProgress?.(0, bytes.byteLength);
    const chunked = bytes.byteLength > options.chunkSize;
    if (chunked) {
      for (let start = 0; start < bytes.byteLength; start += options.chunkSize) {
        const chunk = bytes.subarray(start, start + options.chunkSize);
        location = await this.#send(
          {
            ...upload,
            method: 'PATCH',
            url: location,
            body: chunk,
            contentType: 'application/octet-stream',
            headers: { 'content-range': `${start}-${start + chunk.byteLength - 1}` },
          },
          (response) => this.#nextLocation(response),
        );
        options.onProgress?.(start + chunk.byteLength, bytes.byteLength);
      }
    }
    // docker-registry ignores a blob sent with the POST, so a monolithic upload sends it with the PUT.
    await this.#send(
      {
        ...upload,
        method: 'PUT',
        url: withDigest(location, digest),
        body: chunked ? new Uint8Array(0) : bytes,
        contentType: 'application/octet-stream',
        expect: [201],
      },
      (response) => response.body.dump(),
    );
    options.onProgress?.(bytes.byteLength, bytes.byteLength);
  }

  /** The upload URL for the next step. Our own registry's URLs keep going through its negotiated mode. */
  async #nextLocation(response: HttpResponse): Promise<URL> {
    await response.body.dump();
    const location = header(response, 'location');
    if (!location) {
      throw new OciError(
        OciErrorCode.ProtocolError,
        `registry ${this.registry} answered ${response.statusCode} to an upload step without a Location header`,
      );
    }
    const url = new URL(location, response.url);
    return url.host === this.registry
      ? new URL(`${url.pathname}${url.search}`, `https://${this.registry}`)
      : url;
  }

  #send<T>(
    request: {
      method: HttpRequest['method'];
      object: string;
      path?: string;
      url?: URL;
      accept?: string;
      contentType?: string;
      headers?: Record<string, string>;
      body?: Uint8Array;
      expect?: number[];
      retry?: boolean;
      followRedirects?: boolean;
    },
    read: (response: HttpResponse) => Promise<T>,
  ): Promise<T> {
    const url =
      request.url ?? new URL(`/v2/${this.repository}/${request.path ?? ''}`, `https://${this.registry}`);
    return this.transport.send(
      {
        method: request.method,
        url,
        headers: {
          ...request.headers,
          ...(request.accept && { accept: request.accept }),
          ...(request.contentType && { 'content-type': request.contentType }),
        },
        ...(request.body && { body: request.body }),
        expect: request.expect ?? [200],
        subject: {
          kind: 'registry',
          registry: this.registry,
          repository: this.repository,
          object: request.object,
          action: this.action,
        },
        auth: { authenticator: this.authenticator, scope: this.#scope },
        ...(request.retry !== undefined && { retry: request.retry }),
        ...(request.followRedirects && { followRedirects: true }),
      },
      read,
    );
  }
}

/** Adds `digest=` to an upload URL, keeping its opaque `_state` query exactly as the registry wrote it. */
function withDigest(location: URL, digest: string): URL {
  const separator = location.search ? '&' : '?';
  return new URL(`${location.href}${separator}digest=${encodeURIComponent(digest)}`);
}
