/** Proxy settings, as read from `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY`. */
export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  /** Comma-separated hosts (`example.com` also covers its subdomains), `host:port`, or `*`. */
  noProxy?: string;
}

/** Proxy settings from the environment; the upper-case variable wins over the lower-case one. */
export function proxiesFromEnv(env: Record<string, string | undefined>): ProxySettings {
  const read = (name: string) => nonEmpty(env[name.toUpperCase()]) ?? nonEmpty(env[name]);
  const httpProxy = read('http_proxy');
  const httpsProxy = read('https_proxy');
  const noProxy = read('no_proxy');
  return {
    ...(httpProxy && { httpProxy }),
    ...(httpsProxy && { httpsProxy }),
    ...(noProxy && { noProxy }),
  };
}

/** The proxy URL to reach `url` through, or undefined to connect directly. */
export function proxyFor(url: URL, proxies: ProxySettings): string | undefined {
  const proxy = url.protocol === 'https:' ? proxies.httpsProxy : proxies.httpProxy;
  if (proxy === undefined || bypassesProxy(url, proxies.noProxy ?? '')) return undefined;
  return proxy;
}

function bypassesProxy(url: URL, noProxy: string): boolean {
  const hostname = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((rawEntry) => {
      if (rawEntry === '*') return true;
      const entry = rawEntry.toLowerCase().replace(/^\*?\./, '');
      const colon = entry.lastIndexOf(':');
      const hasPort = colon !== -1 && !entry.endsWith(']') && /^\d+$/.test(entry.slice(colon + 1));
      const entryHost = hasPort ? entry.slice(0, colon) : entry;
      if (hasPort && entry.slice(colon + 1) !== port) return false;
      return hostname === entryHost || hostname.endsWith(`.${entryHost}`);
    });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
