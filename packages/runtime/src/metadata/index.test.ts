import { describe, expect, it } from 'vitest';
import * as metadata from './index.js';

describe('metadata public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(metadata).sort()).toEqual([
      'EXECUTION_MODES',
      'KUBEWARDEN_COMPATIBLE_VERSION',
      'POLICY_TYPES',
      'PROTOCOL_VERSIONS',
      'RULE_OPERATIONS',
      'checkMinimumVersion',
      'parseMetadata',
      'serialiseMetadata',
    ]);
  });

  it('lists the enumerations of the metadata fields', () => {
    expect(metadata.EXECUTION_MODES).toEqual(['kubewarden-wapc', 'opa', 'gatekeeper', 'wasi']);
    expect(metadata.POLICY_TYPES).toEqual(['kubernetes', 'raw']);
    expect(metadata.PROTOCOL_VERSIONS).toEqual(['v1', 'Unknown']);
    expect(metadata.RULE_OPERATIONS).toEqual(['CREATE', 'UPDATE', 'DELETE', 'CONNECT', '*']);
  });
});
