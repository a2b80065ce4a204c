import { request as undiciRequest } from 'undici';
import type { Dispatcher } from 'undici';
import { abandon } from './body-reader.js';
import { MAX_REMEMBERED_HOSTS } from './connections.js';
import type { ConnectionMode, SourceConnections } from './connections.js';
import { messageOf } from '@castellan/proto';
import { OciError, OciErrorCode } from './errors.js';
import { LruMap } from './lru-map.js';
import { registryErrorDetail, statusError } from './request-subject.js';
import type { CredentialState, RequestSubject } from './request-subject.js';
import {
  backoffDelay,
  isRetryableStatus,
  isTlsError,
  isTransientNetworkError,
  sleep,
  tlsFailureReason,
} from './retry.js';
import type { RetryPolicy } from './retry.js';

/** Answers a registry's 401 challenges and supplies the `Authorization` header for its host. */
export interface RequestAuthenticator {
  /** `host[:port]` the credentials belong to; they are never sent anywhere else. */
  readonly registry: string;
  authorization(scope: string): string | undefined;
  /** Obtains credentials for a challenge; throws when there is nothing to answer it with. */
  respond(wwwAuthenticate: string | undefined, scope: string): Promise<void>;
  credentialState(): CredentialState;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH';
  /** An `https:` URL is connected to by the sources rules (fallbacks for insecure hosts); `http:` is plain. */
  url: URL;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Statuses handed to the reader; any other final status becomes a typed error. */
  expect: number[];
  subject: RequestSubject;
  auth?: { authenticator: RequestAuthenticator; scope: string };
  /** Retry transient failures of this request (default true); upload steps retry their whole session instead. */
  retry?: boolean;
  followRedirects?: boolean;
}

export type HttpResponse = Dispatcher.ResponseData & { url: URL };

const MAX_REDIRECTS = 5;
const ERROR_BODY_LIMIT = 8 * 1024;

/** A connection-level failure: no HTTP answer at all. Moves an insecure host to its next mode. */
class ConnectionFailure extends Error {
  constructor(
    readonly mode: ConnectionMode,
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(messageOf(options.cause), options);
  }
}

/**
 * The one place that calls undici: connection modes, authentication challenges, redirects and
 * retries with backoff; every foreign error leaves here as an OciError.
 */
export class HttpTransport {
  /** The mode that last got an HTTP answer from a host; later requests use it directly. */
  readonly #workingMode = new LruMap<string, ConnectionMode>(MAX_REMEMBERED_HOSTS);

  constructor(
    private readonly connections: SourceConnections,
    private readonly retryPolicy: RetryPolicy,
  ) {}

  /** Sends a request and hands an expected response to `read`, which must consume its body. */
  async send<T>(request: HttpRequest, read: (response: HttpResponse) => Promise<T>): Promise<T> {
    return this.#send(request, read, MAX_REDIRECTS);
  }

  async #send<T>(
    request: HttpRequest,
    read: (response: HttpResponse) => Promise<T>,
    redirectsLeft: number,
  ): Promise<T> {
    const host = request.url.host;
    const known = request.url.protocol === 'https:' ? this.#workingMode.get(host) : undefined;
    const modes = known ? [known] : this.connections.modesFor(request.url);
    const failures: ConnectionFailure[] = [];
    for (const [index, mode] of modes.entries()) {
      // Fallback modes are tried once each; only the last one gets the retries.
      const retries = index === modes.length - 1 && request.retry !== false;
      try {
        return await this.#sendInMode(request, mode, read, redirectsLeft, retries);
      } catch (error) {
        if (!(error instanceof ConnectionFailure)) throw error;
        failures.push(error);
      }
    }
    throw this.#connectionError(host, failures);
  }

  async #sendInMode<T>(
    request: HttpRequest,
    mode: ConnectionMode,
    read: (response: HttpResponse) => Promise<T>,
    redirectsLeft: number,
    retries: boolean,
  ): Promise<T> {
    const url = this.connections.urlFor(request.url, mode);
    const maxAttempts = retries ? Math.max(1, this.retryPolicy.attempts) : 1;
    const auth = request.auth?.authenticator.registry === url.host ? request.auth : undefined;
    let attempt = 0;
    let challenged = false;
    for (;;) {
      attempt++;
      const authorization = auth?.authenticator.authorization(auth.scope);
      let response: Dispatcher.ResponseData;
      try {
        // Asked for on each attempt: a host forgotten meanwhile has had its dispatcher closed.
        const dispatcher = await this.connections.dispatcherFor(url, mode);
        response = await undiciRequest(url, {
          dispatcher,
          method: request.method,
          headers: { ...request.headers, ...(authorization && { authorization }) },
          ...(request.body && { body: request.body }),
        });
      } catch (error) {
        // A refused address is final: neither retried nor tried in another mode.
        if (error instanceof OciError) throw error;
        if (isTransientNetworkError(error) && attempt < maxAttempts) {
          await sleep(backoffDelay(this.retryPolicy, attempt));
          continue;
        }
        throw new ConnectionFailure(mode, attempt, { cause: error });
      }
      if (request.url.protocol === 'https:') this.#workingMode.set(url.host, mode);
      const status = response.statusCode;

      if (status === 401 && auth && !challenged) {
        await discard(response.body);
        challenged = true;
        attempt--;
        await auth.authenticator.respond(header(response, 'www-authenticate'), auth.scope);
        continue;
      }
      if (request.followRedirects && status >= 300 && status < 400 && header(response, 'location')) {
        await discard(response.body);
        if (redirectsLeft === 0) {
          throw new OciError(OciErrorCode.ProtocolError, `too many redirects fetching ${url.href}`);
        }
        const next = new URL(header(response, 'location')!, url);
        // The registry's credentials stay with the registry: a redirect elsewhere goes without them.
        const redirected = { ...request, url: next, ...(next.host !== url.host && { auth: undefined }) };
        return this.#send(redirected, read, redirectsLeft - 1);
      }
      if (isRetryableStatus(status) && attempt < maxAttempts) {
        await discard(response.body);
        await sleep(backoffDelay(this.retryPolicy, attempt));
        continue;
      }
      if (!request.expect.includes(status)) {
        const detail = registryErrorDetail(await readLimited(response.body, ERROR_BODY_LIMIT));
        throw statusError(status, request.subject, detail, auth?.authenticator.credentialState());
      }
      try {
        return await read({ ...response, url });
      } catch (error) {
        abandon(response.body);
        if (error instanceof OciError) throw error;
        if (isTransientNetworkError(error) && attempt < maxAttempts) {
          await sleep(backoffDelay(this.retryPolicy, attempt));
          continue;
        }
        throw new OciError(
          OciErrorCode.RegistryUnavailable,
          `connection to ${url.host} failed while receiving ${url.href}: ${messageOf(error)}`,
          { cause: error },
        );
      }
    }
  }

  #connectionError(host: string, failures: ConnectionFailure[]): OciError {
    const first = failures[0]!;
    const last = failures[failures.length - 1]!;
    const tried = failures.map((failure) => `${MODE_NAMES[failure.mode]}: ${failure.message}`).join('; ');
    if (failures.length === 1 && first.mode === 'https' && isTlsError(first.cause)) {
      return new OciError(
        OciErrorCode.TlsFailed,
        `TLS connection to ${host} failed: ${tlsFailureReason(first.cause)}; add its CA to source_authorities["${host}"] in the sources file, or list "${host}" in insecure_sources`,
        { cause: first.cause },
      );
    }
    const attempts = last.attempts > 1 ? ` after ${last.attempts} attempts` : '';
    return new OciError(OciErrorCode.RegistryUnavailable, `cannot reach ${host}${attempts} (${tried})`, {
      cause: last.cause,
    });
  }
}

const MODE_NAMES: Record<ConnectionMode, string> = {
  https: 'HTTPS',
  'https-unverified': 'HTTPS without certificate verification',
  http: 'HTTP',
};

export function header(response: Dispatcher.ResponseData, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Drains a body we have no use for so that its connection can be reused; a failure to drain is moot. */
async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  await body.dump().catch(() => undefined);
}

/** The first `limit` bytes of an error body as text; the rest, or a failure to read it, is ignored. */
async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } catch {
    // the status alone still says what went wrong
  }
  abandon(body);
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}
