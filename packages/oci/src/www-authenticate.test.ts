import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from './www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it('reads a Bearer challenge with quoted parameters', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/busybox:pull',
        },
      },
    ]);
  });

  it('reads Basic, token values, escapes and commas inside quotes', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
    expect(
      parseWwwAuthenticate('Bearer realm=https://h/t, scope="repository:a:pull,push", error="x\\"y"'),
    ).toEqual([
      { scheme: 'bearer', params: { realm: 'https://h/t', scope: 'repository:a:pull,push', error: 'x"y' } },
    ]);
  });

  it('reads several challenges in one header', () => {
    expect(parseWwwAuthenticate('Basic realm="a", Bearer realm="https://t", service=s')).toEqual([
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'https://t', service: 's' } },
    ]);
  });

  it('survives empty and malformed values', () => {
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate('Bearer realm="unterminated')).toEqual([
      { scheme: 'bearer', params: { realm: 'unterminated' } },
    ]);
    expect(parseWwwAuthenticate('"??"')).toEqual([]);
  });
});
