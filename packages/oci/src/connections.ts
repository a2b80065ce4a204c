import { rootCertificates } from 'node:tls';
import { Agent, ProxyAgent } from 'undici';
import type { Dispatcher } from 'undici';
import { LruMap } from './lru-map.js';
import type { NetworkAccess } from './network-access.js';
import { proxyFor } from './proxies.js';
import type { ProxySettings } from './proxies.js';
import type { SourcesConfig } from './sources.js';

/** How a request reaches a host: verified HTTPS, HTTPS without verification, or plain HTTP. */
export type ConnectionMode = 'https' | 'https-unverified' | 'http';

const CONNECT_TIMEOUT_MS = 10_000;
/** Bounds a stalled registry: no headers, or no body bytes, for this long fails the attempt. */
const IDLE_TIMEOUT_MS = 30_000;
/**
 * How many hosts a client keeps connections, working modes and registry tokens for. Requests
 * naming ever more hosts cannot grow these without bound: the least recently used host is
 * forgotten (its connections closed once their requests end) and starts afresh if asked again.
 */
export const MAX_REMEMBERED_HOSTS = 256;

/**
 * Applies sources.yml to connections (docs/kubewarden-compatibility.md#sources-file): HTTPS with the host's
 * extra CAs on top of the system roots; for hosts in `insecure_sources`, unverified HTTPS and then plain HTTP
 * as fallbacks.
 */
export class SourceConnections {
  readonly #insecure: Set<string>;
  readonly #authorities: Map<string, string[]>;
  readonly #proxies: ProxySettings;
  readonly #access: NetworkAccess | undefined;
  // Closing waits for the requests in flight, so a host forgotten mid-download finishes it.
  readonly #dispatchers = new LruMap<string, Dispatcher>(MAX_REMEMBERED_HOSTS, (dispatcher) => {
    dispatcher.close().catch(() => undefined);
  });

  /** `access`: which addresses may be connected to; every address when absent. */
  constructor(sources: SourcesConfig, proxies: ProxySettings, access?: NetworkAccess) {
    this.#insecure = new Set(sources.insecureSources.map((host) => host.toLowerCase()));
    this.#authorities = new Map(
      Object.entries(sources.sourceAuthorities).map(([host, pems]) => [host.toLowerCase(), pems]),
    );
    this.#proxies = proxies;
    this.#access = access;
  }

  /** The modes to try for a URL, in order. An `http:` URL is plain HTTP, as its author asked. */
  modesFor(url: URL): ConnectionMode[] {
    if (url.protocol === 'http:') return ['http'];
    return this.#insecure.has(url.host.toLowerCase()) ? ['https', 'https-unverified', 'http'] : ['https'];
  }

  /** The URL as requested in a mode: the same host and port, the mode's scheme. */
  urlFor(url: URL, mode: ConnectionMode): URL {
    const target = new URL(url);
    target.protocol = mode === 'http' ? 'http:' : 'https:';
    return target;
  }

  /** The dispatcher that reaches `target` in `mode`; refuses a restricted host a proxy would reach. */
  async dispatcherFor(target: URL, mode: ConnectionMode): Promise<Dispatcher> {
    const proxy = proxyFor(target, this.#proxies);
    if (proxy !== undefined) await this.#access?.checkProxiedHost(target.hostname);
    const key = `${mode} ${target.host} ${proxy ?? ''}`;
    let dispatcher = this.#dispatchers.get(key);
    if (!dispatcher) {
      dispatcher = this.#createDispatcher(target.host, mode, proxy);
      this.#dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  }

  async close(): Promise<void> {
    const dispatchers = this.#dispatchers.clear();
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.close()));
  }

  #createDispatcher(host: string, mode: ConnectionMode, proxy: string | undefined): Dispatcher {
    const extraCas = this.#authorities.get(host.toLowerCase());
    const tls = {
      rejectUnauthorized: mode !== 'https-unverified',
      // Node's `ca` replaces the default roots, so keep them: the extra CAs are added, as in Kubewarden.
      ...(extraCas && extraCas.length > 0 && { ca: [...rootCertificates, ...extraCas] }),
    };
    const timeouts = { headersTimeout: IDLE_TIMEOUT_MS, bodyTimeout: IDLE_TIMEOUT_MS };
    if (proxy !== undefined) {
      return new ProxyAgent({ uri: proxy, requestTls: tls, ...timeouts });
    }
    const connect = { ...tls, timeout: CONNECT_TIMEOUT_MS };
    return new Agent({ connect: this.#access?.connector(connect) ?? connect, ...timeouts });
  }
}
