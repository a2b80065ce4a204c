import { describe, expect, it } from 'vitest';
import { manifestAnnotations } from './annotations.js';

describe('manifestAnnotations', () => {
  it('trims values, drops multi-line ones and copies the policy source to the OCI source', () => {
    expect(
      manifestAnnotations({
        'io.kubewarden.policy.title': '  pod-privileged \n',
        'io.kubewarden.policy.usage': 'line one\nline two\n',
        'io.kubewarden.policy.source': 'https://github.com/kubewarden/pod-privileged-policy',
      }),
    ).toEqual({
      'io.kubewarden.policy.title': 'pod-privileged',
      'io.kubewarden.policy.source': 'https://github.com/kubewarden/pod-privileged-policy',
      'org.opencontainers.image.source': 'https://github.com/kubewarden/pod-privileged-policy',
    });
  });

  it('keeps an explicit OCI source', () => {
    expect(
      manifestAnnotations({ 'io.kubewarden.policy.source': 'a', 'org.opencontainers.image.source': 'b' }),
    ).toEqual({ 'io.kubewarden.policy.source': 'a', 'org.opencontainers.image.source': 'b' });
  });

  it('accepts no annotations', () => {
    expect(manifestAnnotations(undefined)).toEqual({});
  });
});
