import { describe, expect, it } from 'vitest';
import { resolveModuleUrl } from './policies-sync.js';

describe('resolveModuleUrl', () => {
  it('reads ./ and ../ paths next to the policies file', () => {
    expect(resolveModuleUrl('./p.wasm', '/srv/castellan/policies.yml')).toBe('file:///srv/castellan/p.wasm');
    expect(resolveModuleUrl('../build/p.wasm', '/srv/castellan/policies.yml')).toBe(
      'file:///srv/build/p.wasm',
    );
  });

  it('leaves URLs and registry references alone', () => {
    for (const url of ['registry://ghcr.io/k/p:v1', 'https://x/p.wasm', 'file:///p.wasm', 'ghcr.io/k/p:v1']) {
      expect(resolveModuleUrl(url, '/srv/policies.yml')).toBe(url);
    }
  });
});
