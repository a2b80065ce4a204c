import { describe, expect, it } from 'vitest';
import { RuntimeError, RuntimeErrorCode } from '../errors.js';
import {
  KNOWN_CAPABILITY_PATHS,
  capabilityPath,
  notGrantedMessage,
  parseHostCapabilityGrants,
  unknownBindingMessage,
  unknownNamespaceMessage,
  unknownOperationMessage,
} from './host-capabilities.js';

function patternProblem(patterns: string[]): string {
  try {
    parseHostCapabilityGrants(patterns);
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe(RuntimeErrorCode.HostCapabilityPatternInvalid);
    return (error as RuntimeError).message;
  }
  throw new Error('expected the patterns to be refused');
}

describe('KNOWN_CAPABILITY_PATHS', () => {
  it('lists every gated leaf of the capability tree', () => {
    expect(KNOWN_CAPABILITY_PATHS).toEqual([
      'oci/v1/verify',
      'oci/v1/manifest_digest',
      'oci/v1/oci_manifest',
      'oci/v1/oci_manifest_config',
      'oci/v2/verify',
      'net/v1/dns_lookup_host',
      'crypto/v1/is_certificate_trusted',
      'kubernetes/list_resources_by_namespace',
      'kubernetes/list_resources_all',
      'kubernetes/get_resource',
      'kubernetes/can_i',
    ]);
  });

  it('are each valid exact patterns', () => {
    const grants = parseHostCapabilityGrants(KNOWN_CAPABILITY_PATHS);
    for (const path of KNOWN_CAPABILITY_PATHS) expect(grants.isGranted(path)).toBe(true);
  });
});

describe('parseHostCapabilityGrants', () => {
  it.each([
    [[], 'oci/v1/verify', false],
    [['*'], 'oci/v1/verify', true],
    [['*'], 'kubernetes/can_i', true],
    [['oci/v1/verify'], 'oci/v1/verify', true],
    [['oci/v1/verify'], 'oci/v2/verify', false],
    [['oci/*'], 'oci/v1/manifest_digest', true],
    [['oci/*'], 'oci/v2/verify', true],
    [['oci/*'], 'net/v1/dns_lookup_host', false],
    [['oci/v2/*'], 'oci/v2/verify', true],
    [['oci/v2/*'], 'oci/v1/verify', false],
    [['oci/*', 'kubernetes/can_i'], 'kubernetes/can_i', true],
    [['oci/*', 'kubernetes/can_i'], 'kubernetes/get_resource', false],
    [[' kubernetes/*  '], 'kubernetes/list_resources_all', true],
  ])('with %j, %s granted is %s', (patterns, path, granted) => {
    expect(parseHostCapabilityGrants(patterns).isGranted(path)).toBe(granted);
  });

  it('always grants tracing, even with an empty list', () => {
    const grants = parseHostCapabilityGrants([]);
    expect(grants.isGranted('tracing/log')).toBe(true);
    expect(grants.isGranted('tracingx/log')).toBe(false);
  });

  it('keeps the configured patterns', () => {
    expect(parseHostCapabilityGrants(['oci/*', 'kubernetes/can_i']).patterns).toEqual([
      'oci/*',
      'kubernetes/can_i',
    ]);
  });

  it('refuses wildcard misuse', () => {
    expect(patternProblem(['oci*'])).toBe(
      `host capability pattern "oci*" is invalid: '*' can only be a whole last segment, as in "oci/*"`,
    );
    expect(patternProblem(['oci/v1/oci_*'])).toContain('"oci/v1/oci_*" is invalid: \'*\' can only be');
    expect(patternProblem(['*/oci'])).toContain('"*/oci" is invalid: \'*\' can only be');
    expect(patternProblem(['oci/*/verify'])).toContain('"oci/*/verify" is invalid: \'*\' can only be');
  });

  it('refuses unknown segments, listing the valid ones', () => {
    expect(patternProblem(['oci/v99/verify'])).toBe(
      'host capability pattern "oci/v99/verify" is invalid: unknown segment "v99" under "oci" (expected one of: v1, v2)',
    );
    expect(patternProblem(['unknown/*'])).toBe(
      'host capability pattern "unknown/*" is invalid: unknown segment "unknown" at the top level ' +
        '(expected one of: crypto, kubernetes, net, oci)',
    );
    expect(patternProblem(['tracing/log'])).toContain('unknown segment "tracing" at the top level');
    expect(patternProblem(['kubernetes/nonexistent'])).toContain(
      'unknown segment "nonexistent" under "kubernetes"',
    );
    expect(patternProblem(['oci/'])).toContain('unknown segment "" under "oci"');
    expect(patternProblem(['toString'])).toContain('unknown segment "toString" at the top level');
  });

  it('refuses paths that stop at a group of capabilities, suggesting the wildcard', () => {
    expect(patternProblem(['oci/v1'])).toBe(
      'host capability pattern "oci/v1" is invalid: "oci/v1" is a group of capabilities, not one; ' +
        'grant them all with "oci/v1/*"',
    );
    expect(patternProblem(['net'])).toContain('"net" is a group of capabilities');
  });

  it('refuses paths that go below a single capability', () => {
    expect(patternProblem(['kubernetes/can_i/*'])).toBe(
      'host capability pattern "kubernetes/can_i/*" is invalid: "kubernetes/can_i" is a single capability and has no sub-capabilities',
    );
  });

  it('refuses empty patterns', () => {
    expect(patternProblem(['  '])).toBe('host capability pattern "  " is empty');
  });

  it('reports every bad pattern at once', () => {
    expect(patternProblem(['oci/*', 'oci/v1', '', 'net/*'])).toBe(
      'host capability pattern "oci/v1" is invalid: "oci/v1" is a group of capabilities, not one; ' +
        'grant them all with "oci/v1/*"; host capability pattern "" is empty',
    );
  });

  it("stops at '*', like the reference host, which ignores the patterns after it", () => {
    expect(parseHostCapabilityGrants(['*', 'nonsense']).isGranted('net/v1/dns_lookup_host')).toBe(true);
    expect(patternProblem(['nonsense', '*'])).toContain('"nonsense"');
  });
});

describe('capability messages', () => {
  it('are the reference host texts', () => {
    expect(notGrantedMessage(capabilityPath('oci', 'v1/verify'))).toBe(
      "Policy has not been granted access to the 'oci/v1/verify' host capability. The violation has been reported.",
    );
    expect(unknownBindingMessage('wasi')).toBe('unknown binding: wasi');
    expect(unknownNamespaceMessage('dns')).toBe('unknown namespace: dns');
    expect(unknownOperationMessage('v3/verify')).toBe('unknown operation: v3/verify');
  });
});
