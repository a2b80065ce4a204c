import type { LookupAddress } from 'node:dns';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { OciErrorCode } from './errors.js';
import { NetworkAccess, networkProblem } from './network-access.js';

const refusedCode: unknown = expect.objectContaining({ code: OciErrorCode.AddressNotAllowed });

describe('NetworkAccess', () => {
  const byDefault = new NetworkAccess([]);

  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '169.254.169.254',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '::1',
    '[::1]',
    '::',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
  ])('refuses %s by default', (address) => {
    expect(byDefault.isRefused(address)).toBe(true);
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'reaches the public address %s',
    (address) => {
      expect(byDefault.isRefused(address)).toBe(false);
    },
  );

  it('reaches restricted addresses inside the allowed networks only', () => {
    const access = new NetworkAccess(['127.0.0.0/8', 'fd00::/8', '10.1.2.3']);
    expect(access.isRefused('127.0.0.2')).toBe(false);
    expect(access.isRefused('::ffff:127.0.0.1')).toBe(false);
    expect(access.isRefused('fd12::1')).toBe(false);
    expect(access.isRefused('10.1.2.3')).toBe(false);
    expect(access.isRefused('10.1.2.4')).toBe(true);
    expect(access.isRefused('fc00::1')).toBe(true);
    expect(access.isRefused('::1')).toBe(true);
  });

  it('refuses a host name that resolves to a restricted address, and resolves it once allowed', async () => {
    await expect(promisify(byDefault.lookup)('localhost', {})).rejects.toThrow(refusedCode);
    const loopback = new NetworkAccess(['127.0.0.0/8', '::1']);
    const found = (await promisify(loopback.lookup)('localhost', {
      all: true,
    })) as unknown as LookupAddress[];
    expect(found.length).toBeGreaterThan(0);
    for (const { address } of found) expect(address).toMatch(/^127\.|^::1$/);
  });

  it('refuses an IP literal in its connector before connecting', async () => {
    const connect = byDefault.connector({ timeout: 1_000 });
    const failure = await new Promise((resolve) =>
      connect({ hostname: '127.0.0.1', protocol: 'http:', port: '9' }, (...[error]) => resolve(error)),
    );
    expect(failure).toEqual(refusedCode);
    expect((failure as Error).message).toBe(
      "refusing to connect to 127.0.0.1: it is or resolves to a loopback, link-local, private or unspecified address, reached only when its network is allowed (the fetcher's CASTELLAN_FETCHER_ALLOWED_NETWORKS)",
    );
  });

  it('checks a host a proxy will connect to as this machine resolves it', async () => {
    await expect(byDefault.checkProxiedHost('127.0.0.1')).rejects.toThrow(refusedCode);
    await expect(byDefault.checkProxiedHost('[::1]')).rejects.toThrow(refusedCode);
    await expect(byDefault.checkProxiedHost('localhost')).rejects.toThrow(refusedCode);
    await expect(byDefault.checkProxiedHost('8.8.8.8')).resolves.toBeUndefined();
    // A name only the proxy can resolve is the proxy's to reach.
    await expect(byDefault.checkProxiedHost('no-such-host.invalid')).resolves.toBeUndefined();
  });

  it('refuses an invalid allowed network with its own code', () => {
    expect(() => new NetworkAccess(['10.0.0.0/33'])).toThrow(
      expect.objectContaining({ code: OciErrorCode.NetworkInvalid }),
    );
  });
});

describe('networkProblem', () => {
  it.each(['10.0.0.0/8', '127.0.0.1', '::1', '::1/128', 'fd00::/8', '0.0.0.0/0'])('accepts %s', (text) => {
    expect(networkProblem(text)).toBeUndefined();
  });

  it.each([
    ['localhost', '"localhost" is not an IP address or CIDR network'],
    ['10.0.0.0/33', '"10.0.0.0/33" has an invalid prefix length (0 to 32)'],
    ['::/129', '"::/129" has an invalid prefix length (0 to 128)'],
    ['10.0.0.0/x', '"10.0.0.0/x" has an invalid prefix length (0 to 32)'],
    ['10.0.0.0/8/8', '"10.0.0.0/8/8" is not an IP address or CIDR network'],
  ])('refuses %s', (text, problem) => {
    expect(networkProblem(text)).toBe(problem);
  });
});
