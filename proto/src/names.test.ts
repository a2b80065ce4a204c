import { describe, expect, it } from 'vitest';
import { ProtoErrorCode } from './errors.js';
import { moduleIndexKey, subjectToken } from './names.js';

describe('subjectToken', () => {
  it.each(['default', 'clusterwide-psp', 'namespaced-team-a-policy', 'pool_1', 'a=b'])(
    'accepts %s',
    (token) => {
      expect(subjectToken(token, 'policy id')).toBe(token);
    },
  );

  it.each(['', 'a.b', 'a*', '>', 'has space', 'tab\t', 'ünïcode', '=leading'])('refuses %j', (token) => {
    expect(() => subjectToken(token, 'policy id')).toThrow(
      expect.objectContaining({ code: ProtoErrorCode.SubjectTokenInvalid }),
    );
  });
});

describe('moduleIndexKey', () => {
  it('is a valid KV key, stable, and distinct per URL', () => {
    const key = moduleIndexKey('registry://ghcr.io/kubewarden/policies/pod-privileged:v0.2.1');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(moduleIndexKey('registry://ghcr.io/kubewarden/policies/pod-privileged:v0.2.1')).toBe(key);
    expect(moduleIndexKey('registry://ghcr.io/kubewarden/policies/pod-privileged:v0.2.2')).not.toBe(key);
  });
});
