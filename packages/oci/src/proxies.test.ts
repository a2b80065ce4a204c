import { describe, expect, it } from 'vitest';
import { proxiesFromEnv, proxyFor } from './proxies.js';

describe('proxiesFromEnv', () => {
  it('prefers upper-case variables and ignores empty ones', () => {
    expect(
      proxiesFromEnv({
        HTTP_PROXY: 'http://upper:3128',
        http_proxy: 'http://lower:3128',
        https_proxy: 'http://lower-tls:3128',
        NO_PROXY: '',
        no_proxy: 'internal.lan',
      }),
    ).toEqual({
      httpProxy: 'http://upper:3128',
      httpsProxy: 'http://lower-tls:3128',
      noProxy: 'internal.lan',
    });
    expect(proxiesFromEnv({})).toEqual({});
  });
});

describe('proxyFor', () => {
  const proxies = {
    httpProxy: 'http://p:80',
    httpsProxy: 'http://ps:80',
    noProxy: '.internal.lan, registry:5000,10.0.0.1',
  };

  it('picks the proxy by scheme', () => {
    expect(proxyFor(new URL('https://ghcr.io/v2/'), proxies)).toBe('http://ps:80');
    expect(proxyFor(new URL('http://example.com/p.wasm'), proxies)).toBe('http://p:80');
  });

  it('bypasses NO_PROXY hosts, their subdomains and host:port entries', () => {
    expect(proxyFor(new URL('https://internal.lan/v2/'), proxies)).toBeUndefined();
    expect(proxyFor(new URL('https://reg.internal.lan/v2/'), proxies)).toBeUndefined();
    expect(proxyFor(new URL('https://registry:5000/v2/'), proxies)).toBeUndefined();
    expect(proxyFor(new URL('https://registry:5001/v2/'), proxies)).toBe('http://ps:80');
    expect(proxyFor(new URL('http://10.0.0.1/p.wasm'), proxies)).toBeUndefined();
    expect(proxyFor(new URL('https://notinternal.lan/'), proxies)).toBe('http://ps:80');
    expect(proxyFor(new URL('https://any/'), { httpsProxy: 'http://ps:80', noProxy: '*' })).toBeUndefined();
  });
});
