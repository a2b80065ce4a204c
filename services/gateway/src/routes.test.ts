import { describe, expect, it } from 'vitest';
import { routeRequest } from './routes.js';

describe('routeRequest', () => {
  it.each([
    ['/validate/psp', 'validate'],
    ['/validate_raw/psp', 'validate_raw'],
    ['/audit/psp', 'audit'],
  ] as const)('routes POST %s', (path, origin) => {
    expect(routeRequest('POST', path)).toEqual({
      kind: 'admission',
      origin,
      policyId: 'psp',
      callerTimeout: undefined,
    });
  });

  it('reads the apiserver timeout and decodes the policy id', () => {
    expect(routeRequest('POST', '/validate/my%20policy?timeout=10s')).toEqual({
      kind: 'admission',
      origin: 'validate',
      policyId: 'my policy',
      callerTimeout: '10s',
    });
  });

  it.each(['/', '/validate', '/validate/', '/validate/a/b', '/mutate/a', '/readiness', '/validate/%E0%A4%A'])(
    '%s is not an endpoint',
    (path) => {
      expect(routeRequest('POST', path).kind).toBe('not-found');
    },
  );

  it('refuses other methods on an endpoint', () => {
    expect(routeRequest('GET', '/validate/psp')).toEqual({
      kind: 'method-not-allowed',
      path: '/validate/psp',
      allow: 'POST',
    });
  });
});
