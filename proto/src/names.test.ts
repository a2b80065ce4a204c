import { describe, expect, it } from 'vitest';
import { ProtoErrorCode } from './errors.js';
import { busIdentityName, inboxPrefix } from './bus-identity.js';
import {
  evaluationSubject,
  evaluatorKey,
  moduleIndexKey,
  policyKey,
  poolEvaluationSubjects,
  poolKeyFilter,
  poolQueueGroup,
  subjectToken,
} from './names.js';

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

describe('subject and key builders', () => {
  it.each([
    [evaluationSubject('default', 'clusterwide-psp', 3), 'castellan.eval.default.clusterwide-psp.3'],
    [evaluationSubject('tenant-a', 'namespaced-team-p', 12), 'castellan.eval.tenant-a.namespaced-team-p.12'],
    [policyKey('default', 'clusterwide-psp'), 'default.clusterwide-psp'],
    [poolKeyFilter('tenant-a'), 'tenant-a.>'],
    [evaluatorKey('default', 'evaluator-7f9c'), 'default.evaluator-7f9c'],
    [poolQueueGroup('critical'), 'critical'],
    [poolEvaluationSubjects('tenant-a'), 'castellan.eval.tenant-a.>'],
    [inboxPrefix({ role: 'gateway' }), '_INBOX.gateway'],
    [inboxPrefix({ role: 'evaluator', pool: 'tenant-a' }), '_INBOX.evaluator.tenant-a'],
    [busIdentityName({ role: 'evaluator', pool: 'tenant-a' }), 'evaluator-tenant-a'],
    [busIdentityName({ role: 'control' }), 'control'],
  ])('%s', (built, expected) => {
    expect(built).toBe(expected);
  });

  it('refuses tokens that would change the subject, and revisions that are not positive integers', () => {
    expect(() => evaluationSubject('a.b', 'p', 1)).toThrow('pool "a.b" cannot be used in a NATS subject');
    expect(() => policyKey('default', 'group/member')).toThrow('policy id "group/member"');
    expect(() => evaluationSubject('default', 'p', 0)).toThrow('revision 0 is not a positive integer');
    expect(() => evaluationSubject('default', 'p', 1.5)).toThrow('revision 1.5');
  });
});
