import { describe, expect, it } from 'vitest';
import { OciErrorCode } from './errors.js';
import { formatModuleUrl, parseModuleUrl } from './module-url.js';

describe('parseModuleUrl', () => {
  it('reads registry:// references', () => {
    expect(parseModuleUrl('registry://ghcr.io/kubewarden/policies/safe-labels:v1')).toEqual({
      scheme: 'registry',
      reference: { registry: 'ghcr.io', repository: 'kubewarden/policies/safe-labels', tag: 'v1' },
    });
  });

  it('treats a string without a scheme as registry://, as policy-server does', () => {
    expect(parseModuleUrl('ghcr.io/org/p:v1')).toEqual(parseModuleUrl('registry://ghcr.io/org/p:v1'));
    expect(parseModuleUrl('host:5000/p:v1')).toMatchObject({
      scheme: 'registry',
      reference: { registry: 'host:5000', repository: 'p', tag: 'v1' },
    });
  });

  it('reads https, http and file URLs', () => {
    expect(parseModuleUrl('https://example.com/p.wasm')).toMatchObject({ scheme: 'https' });
    expect(parseModuleUrl('http://example.com:8080/p.wasm')).toMatchObject({ scheme: 'http' });
    expect(parseModuleUrl('file:///tmp/policy.wasm')).toEqual({ scheme: 'file', path: '/tmp/policy.wasm' });
  });

  it.each(['oci://ghcr.io/a/b', 'file://relative/p.wasm', 'https://', 'registry://ghcr.io/A'])(
    'rejects %s',
    (url) => {
      expect(() => parseModuleUrl(url)).toThrow(
        expect.objectContaining({ code: OciErrorCode.InvalidReference }),
      );
    },
  );

  it('formats a canonical URL', () => {
    expect(formatModuleUrl(parseModuleUrl('busybox'))).toBe(
      'registry://registry-1.docker.io/library/busybox:latest',
    );
    expect(formatModuleUrl(parseModuleUrl('file:///tmp/a%20b.wasm'))).toBe('file:///tmp/a%20b.wasm');
    expect(formatModuleUrl(parseModuleUrl('HTTPS://Example.com/p.wasm'))).toBe('https://example.com/p.wasm');
  });
});
