import { readFile } from 'node:fs/promises';
import { DEFAULT_POLICY_TIMEOUT_SECONDS } from '@castellan/proto';
import type { DesiredPolicy } from '@castellan/control';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { desiredPolicyOf, poolOf } from './desired-policy.js';
import type { AdmissionPolicy, AdmissionPolicyGroup, ClusterAdmissionPolicy } from './policy-resources.js';

const rules = [
  { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE' as const] },
];

function cap(spec: Partial<ClusterAdmissionPolicy['spec']> = {}): ClusterAdmissionPolicy {
  return {
    kind: 'ClusterAdmissionPolicy',
    metadata: { name: 'p' },
    spec: { module: 'registry://example/p:v1', mutating: false, rules, ...spec },
  };
}

function ap(spec: Partial<AdmissionPolicy['spec']> = {}): AdmissionPolicy {
  return {
    kind: 'AdmissionPolicy',
    metadata: { name: 'p', namespace: 'team-a' },
    spec: { module: 'registry://example/p:v1', mutating: false, rules, ...spec },
  };
}

/** Reads one of deploy/examples/*.yaml as a policy resource. */
async function examplePolicy<P>(file: string): Promise<P> {
  const url = new URL(`../../../deploy/examples/${file}`, import.meta.url);
  return parse(await readFile(url, 'utf8')) as P;
}

describe('desiredPolicyOf', () => {
  it('translates the psp-capabilities example', async () => {
    const policy = await examplePolicy<ClusterAdmissionPolicy>(
      'clusteradmissionpolicy-psp-capabilities.yaml',
    );
    expect(desiredPolicyOf(policy)).toEqual<DesiredPolicy>({
      policyId: 'clusterwide-psp-capabilities',
      moduleUrl: 'registry://ghcr.io/kubewarden/policies/psp-capabilities:v0.1.7',
      settings: { allowed_capabilities: ['CHOWN'], required_drop_capabilities: ['NET_ADMIN'] },
      policyMode: 'protect',
      allowedToMutate: true,
      timeoutSeconds: DEFAULT_POLICY_TIMEOUT_SECONDS,
      failurePolicy: 'Fail',
      contextAwareResources: [],
      hostCapabilities: ['*'],
    });
    expect(poolOf(policy)).toBe('default');
  });

  it('translates every optional field of the safe-labels example', async () => {
    const policy = await examplePolicy<ClusterAdmissionPolicy>('clusteradmissionpolicy-safe-labels.yaml');
    expect(desiredPolicyOf(policy)).toEqual<DesiredPolicy>({
      policyId: 'clusterwide-safe-labels',
      moduleUrl: 'ghcr.io/kubewarden/policies/safe-labels:v0.1.14',
      settings: { denied_labels: ['foo', 'bar'] },
      policyMode: 'monitor',
      allowedToMutate: false,
      customMessage: 'Labels of this kind are not allowed here.',
      timeoutSeconds: 3,
      failurePolicy: 'Ignore',
      contextAwareResources: [{ apiVersion: 'v1', kind: 'Namespace' }],
      hostCapabilities: ['*'],
    });
  });

  it.each([
    ['settings unset', cap(), {}],
    ['settings null', cap({ settings: null }), {}],
    ['settings given', cap({ settings: { a: 1 } }), { a: 1 }],
  ])('settings: %s', (_what, policy, settings) => {
    expect(desiredPolicyOf(policy).settings).toEqual(settings);
  });

  it('applies the defaults when the spec sets nothing optional', () => {
    const desired = desiredPolicyOf(cap());
    expect(desired.policyMode).toBe('protect');
    expect(desired.timeoutSeconds).toBe(2);
    expect(desired.failurePolicy).toBe('Fail');
    expect(desired).not.toHaveProperty('customMessage');
    expect(poolOf(cap())).toBe('default');
    expect(poolOf(cap({ policyServer: 'tenant-a' }))).toBe('tenant-a');
  });

  it('takes timeoutEvalSeconds, not the webhook timeoutSeconds', () => {
    expect(desiredPolicyOf(cap({ timeoutSeconds: 20 })).timeoutSeconds).toBe(2);
    expect(desiredPolicyOf(cap({ timeoutSeconds: 20, timeoutEvalSeconds: 7 })).timeoutSeconds).toBe(7);
  });

  it('never makes an AdmissionPolicy context-aware', async () => {
    const policy = await examplePolicy<AdmissionPolicy>('admissionpolicy-privileged-pods.yaml');
    // An AdmissionPolicy spec has no contextAwareResources; one smuggled in is ignored.
    const smuggled = {
      ...policy,
      spec: { ...policy.spec, contextAwareResources: [{ apiVersion: 'v1', kind: 'Secret' }] },
    } as AdmissionPolicy;
    const desired = desiredPolicyOf(smuggled);
    expect(desired.policyId).toBe('namespaced-default-privileged-pods');
    expect(desired.allowedToMutate).toBe(false);
    expect(desired.contextAwareResources).toEqual([]);
  });

  it.each<[string, ClusterAdmissionPolicy | AdmissionPolicy, string[] | undefined, string[]]>([
    ['cluster-wide, pool unrestricted', cap(), undefined, ['*']],
    ['cluster-wide, pool restricted', cap(), ['oci/*'], ['*']],
    ['namespaced, pool unrestricted', ap(), undefined, ['*']],
    [
      'namespaced, pool restricted',
      ap(),
      ['oci/*', 'kubernetes/get_resource'],
      ['oci/*', 'kubernetes/get_resource'],
    ],
    ['namespaced, pool grants none', ap(), [], []],
  ])('host capabilities: %s', (_what, policy, namespaced, expected) => {
    expect(desiredPolicyOf(policy, namespaced).hostCapabilities).toEqual(expected);
  });

  it('does not share arrays with the resource or the caller', () => {
    const granted = ['oci/*'];
    const policy = cap({ contextAwareResources: [{ apiVersion: 'v1', kind: 'Namespace' }] });
    const desired = desiredPolicyOf(policy);
    desired.contextAwareResources.push({ apiVersion: 'v1', kind: 'Pod' });
    expect(policy.spec.contextAwareResources).toHaveLength(1);
    const namespaced = desiredPolicyOf(ap(), granted);
    namespaced.hostCapabilities?.push('net/*');
    expect(granted).toEqual(['oci/*']);
  });

  it("translates the trusted-images AdmissionPolicyGroup: members in order, the pool's capabilities, summed timeout", async () => {
    const group = await examplePolicy<AdmissionPolicyGroup>('admissionpolicygroup-trusted-images.yaml');
    const desired = desiredPolicyOf(group, ['oci/*']);
    expect(desired).toMatchObject({
      policyId: 'namespaced-group-team-a-trusted-images',
      allowedToMutate: false,
      settings: {},
      contextAwareResources: [],
      hostCapabilities: ['oci/*'],
      timeoutSeconds: 10,
    });
    expect(desired.moduleUrl).toBeUndefined();
    expect(desired.group?.expression).toBe('trusted_registry() && no_latest()');
    expect(Object.keys(desired.group?.members ?? {})).toEqual(['trusted_registry', 'no_latest']);
    expect(desired.group?.members.no_latest).toEqual({
      moduleUrl: 'ghcr.io/kubewarden/policies/trusted-repos:v0.2.0',
      settings: { tags: { reject: ['latest'] } },
      timeoutSeconds: 5,
      contextAwareResources: [],
      hostCapabilities: ['oci/*'],
    });
  });
});
