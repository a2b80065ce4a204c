import { describe, expect, it } from 'vitest';
import { ReconcilerErrorCode } from './errors.js';
import { parseImageReference, parseRepository, repositoryOf } from './image-reference.js';
import type { ImageReference } from './image-reference.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseImageReference', () => {
  it.each<[string, ImageReference]>([
    ['ghcr.io/castellan-dev/castellan:v1', { domain: 'ghcr.io', path: 'castellan-dev/castellan', tag: 'v1' }],
    [
      `ghcr.io/castellan-dev/castellan@${DIGEST}`,
      { domain: 'ghcr.io', path: 'castellan-dev/castellan', digest: DIGEST },
    ],
    [
      `ghcr.io/castellan-dev/castellan:v1@${DIGEST}`,
      { domain: 'ghcr.io', path: 'castellan-dev/castellan', tag: 'v1', digest: DIGEST },
    ],
    ['ghcr.io/castellan-dev/castellan', { domain: 'ghcr.io', path: 'castellan-dev/castellan' }],
    // Docker Hub, as the kubelet pulls it.
    ['castellan', { domain: 'docker.io', path: 'library/castellan' }],
    ['castellan:dev', { domain: 'docker.io', path: 'library/castellan', tag: 'dev' }],
    ['acme/castellan', { domain: 'docker.io', path: 'acme/castellan' }],
    ['docker.io/castellan', { domain: 'docker.io', path: 'library/castellan' }],
    ['index.docker.io/acme/castellan:1', { domain: 'docker.io', path: 'acme/castellan', tag: '1' }],
    // A first component is a host when it has a dot, a port, is localhost, or has capitals.
    ['localhost/castellan', { domain: 'localhost', path: 'castellan' }],
    ['localhost:5000/castellan:dev', { domain: 'localhost:5000', path: 'castellan', tag: 'dev' }],
    ['Registry.Example.com:443/a/b', { domain: 'registry.example.com:443', path: 'a/b' }],
    ['Mirror/castellan', { domain: 'mirror', path: 'castellan' }],
    ['[::1]:5000/castellan:v1', { domain: '[::1]:5000', path: 'castellan', tag: 'v1' }],
    // Without a slash, what follows a colon is a tag, not a port.
    ['registry:5000', { domain: 'docker.io', path: 'library/registry', tag: '5000' }],
    ['r.io/a__b/c--d.e_f:V1.0-rc_1', { domain: 'r.io', path: 'a__b/c--d.e_f', tag: 'V1.0-rc_1' }],
  ])('%s', (reference, expected) => {
    expect(parseImageReference(reference)).toStrictEqual(expected);
  });

  it.each([
    ['', 'it names no repository'],
    ['ghcr.io/Castellan/castellan', 'the path component "Castellan" is not lower-case'],
    ['ghcr.io/castellan-dev//castellan', 'the path component "" is not'],
    ['ghcr.io/castellan-/castellan', 'the path component "castellan-" is not'],
    ['ghcr.io/castellan-dev/castellan:v1:v2', 'the path component "castellan:v1" is not'],
    ['ghcr.io/castellan-dev/castellan:', 'the tag "" is not'],
    ['ghcr.io/castellan-dev/castellan:-v1', 'the tag "-v1" is not'],
    [`ghcr.io/castellan-dev/castellan:${'t'.repeat(129)}`, 'is not 1 to 128'],
    ['ghcr.io/castellan-dev/castellan@sha256:abc', 'the digest "sha256:abc" is not'],
    ['ghcr.io/castellan-dev/castellan@', 'the digest "" is not'],
    ['https://ghcr.io/castellan-dev/castellan', '"https:" is not a registry host[:port]'],
    ['-ghcr.io/castellan', '"-ghcr.io" is not a registry host[:port]'],
    ['ghcr.io/castellan dev', 'the path component "castellan dev" is not'],
    [`r.io/${'a'.repeat(251)}`, 'its name is longer than 255 characters'],
  ])('refuses "%s": %s', (reference, why) => {
    expect(() => parseImageReference(reference)).toThrow(why);
    expect(() => parseImageReference(reference)).toThrow(
      expect.objectContaining({ code: ReconcilerErrorCode.ImageReferenceInvalid }),
    );
  });
});

describe('repositoryOf', () => {
  it('is the host and path, without tag or digest', () => {
    expect(repositoryOf(parseImageReference(`localhost:5000/a/b:1@${DIGEST}`))).toBe('localhost:5000/a/b');
    expect(repositoryOf(parseImageReference('nginx:1.27'))).toBe('docker.io/library/nginx');
  });
});

describe('parseRepository', () => {
  it('normalises a repository', () => {
    expect(parseRepository('ghcr.io/castellan-dev/castellan')).toBe('ghcr.io/castellan-dev/castellan');
    expect(parseRepository('GHCR.io/castellan-dev/castellan')).toBe('ghcr.io/castellan-dev/castellan');
    expect(parseRepository('nginx')).toBe('docker.io/library/nginx');
  });

  it('refuses a tag or a digest', () => {
    expect(() => parseRepository('ghcr.io/castellan-dev/castellan:v1')).toThrow(
      '"ghcr.io/castellan-dev/castellan:v1" is not a repository: drop its tag',
    );
    expect(() => parseRepository(`ghcr.io/castellan-dev/castellan@${DIGEST}`)).toThrow('drop its digest');
  });
});
