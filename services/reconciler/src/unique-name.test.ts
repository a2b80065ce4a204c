import { describe, expect, it } from 'vitest';
import { ReconcilerError, ReconcilerErrorCode } from './errors.js';
import type { AnyPolicy } from './policy-resources.js';
import { uniqueNameOf } from './unique-name.js';

const rules = [
  { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE' as const] },
];
const single = { module: 'registry://example/p:v1', mutating: false, rules };
const group = {
  expression: 'a()',
  message: 'no',
  rules,
  policies: { a: { module: 'registry://example/a:v1' } },
};

describe('uniqueNameOf', () => {
  it.each<[string, AnyPolicy, string]>([
    [
      'ClusterAdmissionPolicy',
      { kind: 'ClusterAdmissionPolicy', metadata: { name: 'psp' }, spec: single },
      'clusterwide-psp',
    ],
    [
      'AdmissionPolicy',
      { kind: 'AdmissionPolicy', metadata: { name: 'priv', namespace: 'team-a' }, spec: single },
      'namespaced-team-a-priv',
    ],
    [
      'ClusterAdmissionPolicyGroup',
      { kind: 'ClusterAdmissionPolicyGroup', metadata: { name: 'signed' }, spec: group },
      'clusterwide-group-signed',
    ],
    [
      'AdmissionPolicyGroup',
      { kind: 'AdmissionPolicyGroup', metadata: { name: 'trusted', namespace: 'default' }, spec: group },
      'namespaced-group-default-trusted',
    ],
  ])('names a %s', (_kind, policy, expected) => {
    expect(uniqueNameOf(policy)).toBe(expected);
  });

  it.each<[string, AnyPolicy]>([
    [
      'a dotted cluster-wide name',
      { kind: 'ClusterAdmissionPolicy', metadata: { name: 'psp.v2' }, spec: single },
    ],
    [
      'a dotted namespaced name',
      { kind: 'AdmissionPolicy', metadata: { name: 'a.b', namespace: 'team-a' }, spec: single },
    ],
  ])('refuses %s, naming the policy', (_what, policy) => {
    let thrown: unknown;
    try {
      uniqueNameOf(policy);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ReconcilerError);
    const error = thrown as ReconcilerError;
    expect(error.code).toBe(ReconcilerErrorCode.PolicyNameInvalid);
    expect(error.message).toContain(`${policy.kind} `);
    expect(error.message).toContain(policy.metadata.name);
    expect(error.toRecord().code).toBe('CASTELLAN_RECONCILER_POLICY_NAME_INVALID');
  });
});
