import type { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { MAX_REMEMBERED_HOSTS, SourceConnections } from './connections.js';
import { OciErrorCode } from './errors.js';
import { NetworkAccess } from './network-access.js';
import { DEFAULT_SOURCES } from './sources.js';

describe('SourceConnections', () => {
  it('keeps dispatchers for a bounded number of hosts, closing the one it forgets', async () => {
    const connections = new SourceConnections(DEFAULT_SOURCES, {});
    const dispatcher = (index: number) =>
      connections.dispatcherFor(new URL(`https://host-${index}.test/`), 'https') as Promise<Agent>;
    const first = await dispatcher(0);
    expect(await dispatcher(0)).toBe(first);
    for (let index = 1; index <= MAX_REMEMBERED_HOSTS; index++) await dispatcher(index);

    expect(first.closed).toBe(true);
    const again = await dispatcher(0);
    expect(again).not.toBe(first);
    expect(again.closed).toBe(false);
    const latest = await dispatcher(MAX_REMEMBERED_HOSTS);
    expect(await dispatcher(MAX_REMEMBERED_HOSTS)).toBe(latest);
    await connections.close();
    expect(latest.closed).toBe(true);
  });

  it('refuses a restricted host that a proxy would connect to, unless its network is allowed', async () => {
    const proxies = { httpProxy: 'http://proxy.test:3128' };
    const restricted = new SourceConnections(DEFAULT_SOURCES, proxies, new NetworkAccess([]));
    await expect(restricted.dispatcherFor(new URL('http://127.0.0.1:8080/'), 'http')).rejects.toThrow(
      expect.objectContaining({ code: OciErrorCode.AddressNotAllowed }),
    );
    const allowed = new SourceConnections(DEFAULT_SOURCES, proxies, new NetworkAccess(['127.0.0.0/8']));
    await expect(allowed.dispatcherFor(new URL('http://127.0.0.1:8080/'), 'http')).resolves.toBeDefined();
    await Promise.all([restricted.close(), allowed.close()]);
  });
});
