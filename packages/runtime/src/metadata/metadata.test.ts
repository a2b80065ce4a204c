import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { RuntimeError, RuntimeErrorCode } from '../errors.js';
import {
  KUBEWARDEN_COMPATIBLE_VERSION,
  checkMinimumVersion,
  parseMetadata,
  serialiseMetadata,
} from './metadata.js';

const podRule = { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] };

function metadataProblem(value: unknown): string {
  try {
    parseMetadata(value);
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe(RuntimeErrorCode.MetadataInvalid);
    return (error as RuntimeError).message;
  }
  throw new Error('expected the metadata to be refused');
}

describe('parseMetadata', () => {
  it('defaults everything but rules and mutating', () => {
    expect(parseMetadata({ rules: [podRule], mutating: false })).toEqual({
      rules: [podRule],
      mutating: false,
      backgroundAudit: true,
      executionMode: 'kubewarden-wapc',
      policyType: 'kubernetes',
      contextAwareResources: [],
    });
  });

  it('reads a metadata.yml as policy authors write it, ignoring unknown keys', () => {
    const metadata = parseMetadata(
      parseYaml(`
rules:
  - apiGroups: ["apps"]
    apiVersions: ["v1"]
    resources: ["deployments", "deployments/scale"]
    operations: ["CREATE", "UPDATE"]
mutating: true
contextAware: true
backgroundAudit: false
executionMode: wasi
policyType: raw
contextAwareResources:
  - apiVersion: v1
    kind: Namespace
  - apiVersion: apps/v1
    kind: Deployment
  - apiVersion: v1
    kind: Namespace
hostCapabilities: ["kubernetes/*", "oci/v2/verify"]
minimumKubewardenVersion: 1.17.0-rc1
annotations:
  io.kubewarden.policy.title: psp-user-group
  io.kubewarden.policy.severity: medium
`),
    );
    expect(metadata).toEqual({
      rules: [
        {
          apiGroups: ['apps'],
          apiVersions: ['v1'],
          resources: ['deployments', 'deployments/scale'],
          operations: ['CREATE', 'UPDATE'],
        },
      ],
      annotations: {
        'io.kubewarden.policy.title': 'psp-user-group',
        'io.kubewarden.policy.severity': 'medium',
      },
      mutating: true,
      backgroundAudit: false,
      executionMode: 'wasi',
      policyType: 'raw',
      contextAwareResources: [
        { apiVersion: 'apps/v1', kind: 'Deployment' },
        { apiVersion: 'v1', kind: 'Namespace' },
      ],
      hostCapabilities: ['kubernetes/*', 'oci/v2/verify'],
      minimumKubewardenVersion: '1.17.0-rc1',
    });
  });

  it('treats null optional fields as absent', () => {
    const metadata = parseMetadata({
      rules: [],
      mutating: false,
      protocolVersion: null,
      annotations: null,
      hostCapabilities: null,
      minimumKubewardenVersion: null,
    });
    expect(Object.keys(metadata)).toEqual([
      'rules',
      'mutating',
      'backgroundAudit',
      'executionMode',
      'policyType',
      'contextAwareResources',
    ]);
  });

  it('accepts protocol version Unknown for non-waPC modes only', () => {
    expect(
      parseMetadata({ rules: [], mutating: false, protocolVersion: 'Unknown', executionMode: 'opa' }),
    ).toMatchObject({ protocolVersion: 'Unknown', executionMode: 'opa' });
    expect(metadataProblem({ rules: [], mutating: false, protocolVersion: 'Unknown' })).toBe(
      'policy metadata is invalid: protocolVersion: "Unknown" is not allowed when executionMode is kubewarden-wapc',
    );
  });

  it('reports every problem at once, each with its field path', () => {
    expect(
      metadataProblem({
        protocolVersion: 'v2',
        rules: [{ ...podRule, operations: ['CREATE', 'PATCH'] }],
        annotations: { title: 'x', version: 1 },
        backgroundAudit: 'yes',
        executionMode: 'kubewarden',
        policyType: null,
        contextAwareResources: [{ apiVersion: 'v1' }, 'Pod', { apiVersion: '', kind: 'Pod' }],
        hostCapabilities: ['oci/*', 7],
        minimumKubewardenVersion: 'v1.10.0',
      }),
    ).toBe(
      'policy metadata is invalid: ' +
        [
          'protocolVersion: "v2" is not one of v1, Unknown',
          'rules[0].operations[1]: "PATCH" is not one of CREATE, UPDATE, DELETE, CONNECT, *',
          'annotations["version"]: must be a string (got number)',
          'mutating: is required and must be a boolean',
          'backgroundAudit: must be a boolean (got string)',
          'executionMode: "kubewarden" is not one of kubewarden-wapc, opa, gatekeeper, wasi',
          'policyType: must be one of kubernetes, raw (got null)',
          'contextAwareResources[0].kind: is required and must be a non-empty string',
          'contextAwareResources[1]: must be a map (got string)',
          'contextAwareResources[2].apiVersion: is required and must be a non-empty string',
          'hostCapabilities[1]: must be a string (got number)',
          'minimumKubewardenVersion: "v1.10.0" is not a semantic version (MAJOR.MINOR.PATCH, e.g. "1.36.0")',
        ].join('; '),
    );
  });

  it('requires the rules key', () => {
    expect(metadataProblem({ mutating: true })).toBe(
      'policy metadata is invalid: rules: is required and must be a list',
    );
  });

  it.each(['1.10', ' 1.10.0', '=1.10.0', '01.10.0', '1.10.0 '])(
    'refuses the non-semver version %j',
    (version) => {
      expect(metadataProblem({ rules: [], mutating: false, minimumKubewardenVersion: version })).toContain(
        'is not a semantic version',
      );
    },
  );

  it('accepts a version with pre-release and build metadata', () => {
    expect(
      parseMetadata({ rules: [], mutating: false, minimumKubewardenVersion: '1.10.0-rc.1+build.5' })
        .minimumKubewardenVersion,
    ).toBe('1.10.0-rc.1+build.5');
  });

  it('refuses a value that is not a map', () => {
    expect(metadataProblem(['rules'])).toBe('policy metadata must be a map (got list)');
  });
});

describe('serialiseMetadata', () => {
  it('produces the compact JSON kwctl embeds', () => {
    const metadata = parseMetadata({
      mutating: false,
      annotations: { 'io.kubewarden.policy.title': 'demo', 'io.kubewarden.kwctl': '1.36.0' },
      rules: [{ operations: ['CREATE'], resources: ['pods'], apiVersions: ['v1'], apiGroups: [''] }],
      protocolVersion: 'v1',
    });
    expect(serialiseMetadata(metadata)).toBe(
      '{"protocolVersion":"v1","rules":[{"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"operations":["CREATE"]}],' +
        '"annotations":{"io.kubewarden.kwctl":"1.36.0","io.kubewarden.policy.title":"demo"},"mutating":false,' +
        '"backgroundAudit":true,"executionMode":"kubewarden-wapc","policyType":"kubernetes","contextAwareResources":[]}',
    );
  });

  it('appends hostCapabilities and minimumKubewardenVersion when present, and sorts the resource set', () => {
    const json = serialiseMetadata({
      protocolVersion: 'Unknown',
      rules: [],
      mutating: true,
      backgroundAudit: false,
      executionMode: 'gatekeeper',
      policyType: 'kubernetes',
      contextAwareResources: [
        { apiVersion: 'v1', kind: 'Pod' },
        { apiVersion: 'apps/v1', kind: 'Deployment' },
        { apiVersion: 'v1', kind: 'Pod' },
      ],
      hostCapabilities: ['kubernetes/can_i'],
      minimumKubewardenVersion: '1.30.0',
    });
    expect(json).toBe(
      '{"protocolVersion":"Unknown","rules":[],"mutating":true,"backgroundAudit":false,"executionMode":"gatekeeper",' +
        '"policyType":"kubernetes","contextAwareResources":[{"apiVersion":"apps/v1","kind":"Deployment"},' +
        '{"apiVersion":"v1","kind":"Pod"}],"hostCapabilities":["kubernetes/can_i"],"minimumKubewardenVersion":"1.30.0"}',
    );
  });

  it('writes a missing protocol version as null, as the reference does', () => {
    expect(serialiseMetadata(parseMetadata({ rules: [], mutating: false }))).toMatch(
      /^\{"protocolVersion":null,/,
    );
  });

  it('round-trips through parseMetadata', () => {
    const metadata = parseMetadata({
      protocolVersion: 'v1',
      rules: [podRule],
      mutating: true,
      contextAwareResources: [{ apiVersion: 'v1', kind: 'Service' }],
      minimumKubewardenVersion: '1.20.1',
    });
    expect(parseMetadata(JSON.parse(serialiseMetadata(metadata)))).toEqual(metadata);
  });
});

describe('checkMinimumVersion', () => {
  it('claims compatibility with Kubewarden 1.36.0', () => {
    expect(KUBEWARDEN_COMPATIBLE_VERSION).toBe('1.36.0');
  });

  it.each(['1.36.0', '1.36.9', '1.36.0-rc1', '1.35.4', '0.9.0'])('runs a policy requiring %s', (version) => {
    expect(() => checkMinimumVersion({ minimumKubewardenVersion: version })).not.toThrow();
  });

  it('runs a policy without a minimum version', () => {
    expect(() => checkMinimumVersion({})).not.toThrow();
  });

  it('ignores the engine patch and pre-release too', () => {
    expect(() => checkMinimumVersion({ minimumKubewardenVersion: '1.36.5' }, '1.36.0-beta.1')).not.toThrow();
  });

  it.each([
    ['1.37.0', '1.37.0'],
    ['2.0.0', '2.0.0'],
    ['1.40.3-rc1', '1.40.0'],
  ])('refuses a policy requiring %s', (version, shown) => {
    let thrown: unknown;
    try {
      checkMinimumVersion({ minimumKubewardenVersion: version });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RuntimeError);
    expect((thrown as RuntimeError).code).toBe(RuntimeErrorCode.MinimumKubewardenVersionUnmet);
    expect((thrown as RuntimeError).message).toBe(
      `the policy requires Kubewarden ${shown} or newer, but Castellan implements Kubewarden 1.36.0: ` +
        'use a release of the policy made for this Kubewarden version',
    );
  });
});
