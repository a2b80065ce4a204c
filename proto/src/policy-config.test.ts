import { encode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { PROTO_VERSION } from './codec.js';
import { decodePolicyConfig, encodePolicyConfig } from './policy-config.js';
import type { PolicyConfig } from './policy-config.js';

const minimal: PolicyConfig = {
  policyId: 'pod-privileged',
  pool: 'default',
  module: { url: 'registry://ghcr.io/kubewarden/policies/pod-privileged:v0.2.1', sha256: 'a'.repeat(64) },
  settings: {},
  policyMode: 'protect',
  allowedToMutate: false,
  timeoutSeconds: 2,
  failurePolicy: 'Fail',
  contextAwareResources: [],
};

describe('PolicyConfig', () => {
  it.each<PolicyConfig>([
    minimal,
    {
      ...minimal,
      executionMode: 'gatekeeper',
      settings: { allowed: ['a', 'b'], nested: { limit: 3, ratio: 0.5, on: true, none: null } },
      policyMode: 'monitor',
      allowedToMutate: true,
      customMessage: 'ask the platform team',
      failurePolicy: 'Ignore',
      contextAwareResources: [{ apiVersion: 'v1', kind: 'Namespace' }],
      hostCapabilities: ['oci/*', 'kubernetes/list_resources_by_namespace'],
    },
  ])('round-trips %#', (config) => {
    expect(decodePolicyConfig(encodePolicyConfig(config))).toEqual(config);
  });

  it('names a value outside its closed set', () => {
    expect(() => decodePolicyConfig(encode({ v: PROTO_VERSION, ...minimal, policyMode: 'audit' }))).toThrow(
      'PolicyConfig.policyMode: expected one of protect, monitor (got "audit")',
    );
    expect(() =>
      decodePolicyConfig(encode({ v: PROTO_VERSION, ...minimal, contextAwareResources: [{ kind: 'Pod' }] })),
    ).toThrow('PolicyConfig.contextAwareResources[0].apiVersion: expected a string');
  });
});
