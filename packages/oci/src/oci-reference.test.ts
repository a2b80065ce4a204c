import { describe, expect, it } from 'vitest';
import { OciErrorCode } from './errors.js';
import { formatOciReference, isLatestTag, parseOciReference } from './oci-reference.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseOciReference', () => {
  it.each([
    [
      'ghcr.io/kubewarden/policies/pod-privileged:v0.2.1',
      'ghcr.io',
      'kubewarden/policies/pod-privileged',
      'v0.2.1',
    ],
    ['ghcr.io/kubewarden/policies/pod-privileged', 'ghcr.io', 'kubewarden/policies/pod-privileged', 'latest'],
    ['127.0.0.1:5000/policy:1.0', '127.0.0.1:5000', 'policy', '1.0'],
    ['localhost/policy', 'localhost', 'policy', 'latest'],
    ['localhost:5000/a/b_c__d-e.f:tag_1.2-3', 'localhost:5000', 'a/b_c__d-e.f', 'tag_1.2-3'],
    ['[::1]:5000/policy:v1', '[::1]:5000', 'policy', 'v1'],
  ])('%s', (text, registry, repository, tag) => {
    expect(parseOciReference(text)).toEqual({ registry, repository, tag });
  });

  it('normalises Docker Hub names', () => {
    expect(parseOciReference('busybox')).toEqual({
      registry: 'registry-1.docker.io',
      repository: 'library/busybox',
      tag: 'latest',
    });
    expect(parseOciReference('kubewarden/policy:v1')).toEqual({
      registry: 'registry-1.docker.io',
      repository: 'kubewarden/policy',
      tag: 'v1',
    });
    expect(parseOciReference('docker.io/x/y').registry).toBe('registry-1.docker.io');
    expect(parseOciReference('docker.io/busybox').repository).toBe('library/busybox');
    expect(parseOciReference('index.docker.io/x/y:1')).toMatchObject({
      registry: 'registry-1.docker.io',
      repository: 'x/y',
    });
  });

  it('treats a first component without ".", ":" or localhost as a Docker Hub namespace', () => {
    expect(parseOciReference('myhost/policy')).toMatchObject({
      registry: 'registry-1.docker.io',
      repository: 'myhost/policy',
    });
  });

  it('keeps a digest, with or without a tag', () => {
    expect(parseOciReference(`ghcr.io/a/b@${DIGEST}`)).toEqual({
      registry: 'ghcr.io',
      repository: 'a/b',
      digest: DIGEST,
    });
    expect(parseOciReference(`ghcr.io/a/b:v1@${DIGEST}`)).toEqual({
      registry: 'ghcr.io',
      repository: 'a/b',
      tag: 'v1',
      digest: DIGEST,
    });
  });

  it.each([
    ['', 'empty'],
    ['ghcr.io/Upper/case', 'lowercase'],
    ['ghcr.io/a/b:', 'tag'],
    ['ghcr.io/a/b:-bad', 'tag'],
    ['ghcr.io/a//b', 'empty path component'],
    ['ghcr.io/a/b@sha256:1234', 'digest'],
    [`ghcr.io/a/b@sha512:${'a'.repeat(128)}`, 'digest'],
    ['bad_host.io:x/a', 'registry host'],
    ['127.0.0.1:99999/a/b:v1', 'port 99999 is not between 1 and 65535'],
    ['localhost:0/a', 'port 0'],
    [`ghcr.io/${'a'.repeat(300)}`, 'longer than'],
  ])('rejects %j', (text, why) => {
    expect(() => parseOciReference(text)).toThrow(
      expect.objectContaining({ code: OciErrorCode.InvalidReference }),
    );
    expect(() => parseOciReference(text)).toThrow(why);
  });
});

describe('formatOciReference and isLatestTag', () => {
  it('formats canonical strings', () => {
    expect(formatOciReference(parseOciReference('busybox'))).toBe(
      'registry-1.docker.io/library/busybox:latest',
    );
    expect(formatOciReference(parseOciReference(`h.io/a@${DIGEST}`))).toBe(`h.io/a@${DIGEST}`);
    expect(formatOciReference(parseOciReference(`h.io/a:v1@${DIGEST}`))).toBe(`h.io/a:v1@${DIGEST}`);
  });

  it('recognises the moving latest tag, explicit or implicit, but not a pinned one', () => {
    expect(isLatestTag(parseOciReference('h.io/a'))).toBe(true);
    expect(isLatestTag(parseOciReference('h.io/a:latest'))).toBe(true);
    expect(isLatestTag(parseOciReference('h.io/a:v1'))).toBe(false);
    expect(isLatestTag(parseOciReference(`h.io/a:latest@${DIGEST}`))).toBe(false);
  });
});
