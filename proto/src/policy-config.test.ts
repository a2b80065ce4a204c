import { encode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { PROTO_VERSION } from './codec.js';
import { decodePolicyConfig, encodePolicyConfig } from './policy-config.js';
import type { PolicyConfig } from './policy-config.js';

/** The fields of every config, whatever it runs: a module or a group. */
const withoutModule: PolicyConfig = {
  policyId: 'pod-privileged',
  pool: 'default',
  settings: {},
  policyMode: 'protect',
  allowedToMutate: false,
  timeoutSeconds: 2,
  failurePolicy: 'Fail',
  contextAwareResources: [],
};

const minimal: PolicyConfig = {
  ...withoutModule,
  module: { url: 'registry://ghcr.io/kubewarden/policies/pod-privileged:v0.2.1', sha256: 'a'.repeat(64) },
};

const group: PolicyConfig = {
  ...withoutModule,
  policyId: 'safe-pods',
  group: {
    expression: 'not_privileged() || (labelled() && !_host_ns())',
    message: 'the pod is not safe',
    // Not alphabetical: the order members were declared in must survive the round trip.
    members: {
      not_privileged: {
        module: {
          url: 'registry://ghcr.io/kubewarden/policies/pod-privileged:v0.2.1',
          sha256: 'b'.repeat(64),
        },
        settings: {},
        timeoutSeconds: 2,
        contextAwareResources: [],
      },
      labelled: {
        module: { url: 'file:///policies/required-labels.wasm', sha256: 'c'.repeat(64) },
        settings: { labels: ['team'] },
        timeoutSeconds: 5,
        contextAwareResources: [{ apiVersion: 'v1', kind: 'Namespace' }],
        hostCapabilities: ['kubernetes/*'],
      },
      _host_ns: {
        module: { url: 'https://example.com/host-namespaces.wasm', sha256: 'd'.repeat(64) },
        settings: { allow: false },
        timeoutSeconds: 3,
        contextAwareResources: [],
        hostCapabilities: [],
      },
    },
  },
  timeoutSeconds: 10,
};

const wire = (fields: object) => encode({ v: PROTO_VERSION, ...fields });

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
    group,
    { ...group, policyMode: 'monitor', failurePolicy: 'Ignore', hostCapabilities: ['*'] },
  ])('round-trips %#', (config) => {
    expect(decodePolicyConfig(encodePolicyConfig(config))).toEqual(config);
  });

  it('keeps the members of a group in the order they were declared', () => {
    const decoded = decodePolicyConfig(encodePolicyConfig(group));
    expect(Object.keys(decoded.group?.members ?? {})).toEqual(['not_privileged', 'labelled', '_host_ns']);
  });

  it('refuses a config with both a module and a group, or neither', () => {
    expect(() => decodePolicyConfig(wire({ ...group, module: minimal.module }))).toThrow(
      expect.objectContaining({
        code: 'CASTELLAN_PROTO_MESSAGE_INVALID',
        message: 'PolicyConfig: expected exactly one of module and group (got both)',
      }),
    );
    expect(() => decodePolicyConfig(wire(withoutModule))).toThrow(
      'PolicyConfig: expected exactly one of module and group (got neither)',
    );
  });

  it('refuses a group without members or with a member name that is not an identifier', () => {
    const members = group.group?.members ?? {};
    const withMembers = (replacement: object) =>
      wire({ ...group, group: { ...group.group, members: replacement } });
    expect(() => decodePolicyConfig(withMembers({}))).toThrow(
      expect.objectContaining({
        code: 'CASTELLAN_PROTO_MESSAGE_INVALID',
        message: 'PolicyConfig.group.members: expected at least one member',
      }),
    );
    for (const name of ['1st', 'has-dash', 'a/b', '']) {
      expect(() => decodePolicyConfig(withMembers({ ...members, [name]: members.labelled }))).toThrow(
        `PolicyConfig.group.members: expected member names matching ^[_a-zA-Z][_a-zA-Z0-9]*$ (got ${JSON.stringify(name)})`,
      );
    }
  });

  it('names the wrong field of a group', () => {
    expect(() =>
      decodePolicyConfig(wire({ ...group, group: { ...group.group, expression: undefined } })),
    ).toThrow('PolicyConfig.group.expression: expected a string');
    expect(() =>
      decodePolicyConfig(
        wire({
          ...group,
          group: { ...group.group, members: { a: { ...group.group?.members.labelled, settings: [] } } },
        }),
      ),
    ).toThrow('PolicyConfig.group.members.a.settings: expected a map');
    expect(() => decodePolicyConfig(wire({ ...group, group: 'safe-pods' }))).toThrow(
      'PolicyConfig.group: expected a map',
    );
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
