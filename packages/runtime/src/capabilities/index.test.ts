import { describe, expect, it } from 'vitest';
import * as capabilities from './index.js';

describe('capabilities public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(capabilities).sort()).toEqual([
      'CAPABILITY_TREE',
      'KNOWN_CAPABILITY_PATHS',
      'KUBEWARDEN_BINDING',
      'TRACING_NAMESPACE',
      'capabilityPath',
      'notGrantedMessage',
      'parseHostCapabilityGrants',
      'unknownBindingMessage',
      'unknownNamespaceMessage',
      'unknownOperationMessage',
    ]);
  });

  it('names the binding and the ungated namespace', () => {
    expect(capabilities.KUBEWARDEN_BINDING).toBe('kubewarden');
    expect(capabilities.TRACING_NAMESPACE).toBe('tracing');
  });
});
