import { describe, expect, it } from 'vitest';
import { ControlErrorCode } from './errors.js';
import { parsePoliciesFile } from './policies-file.js';

describe('parsePoliciesFile', () => {
  it('reads individual policies with policy-server defaults', () => {
    const policies = parsePoliciesFile(`
psp-capabilities:
  module: registry://ghcr.io/kubewarden/policies/psp-capabilities:v0.1.7
  namespacedName: default/psp   # added by the controller; ignored
privileged:
  module: file:///policies/pod-privileged.wasm
  policyMode: monitor
  allowedToMutate: true
  settings: {skip: [kube-system]}
  contextAwareResources: [{apiVersion: v1, kind: Namespace}]
  message: ask the platform team
  timeoutEvalSeconds: 5
  hostCapabilities: ["*"]
  failurePolicy: Ignore
`);
    expect(policies).toEqual([
      {
        policyId: 'psp-capabilities',
        moduleUrl: 'registry://ghcr.io/kubewarden/policies/psp-capabilities:v0.1.7',
        settings: {},
        policyMode: 'protect',
        allowedToMutate: false,
        timeoutSeconds: 2,
        failurePolicy: 'Fail',
        contextAwareResources: [],
      },
      {
        policyId: 'privileged',
        moduleUrl: 'file:///policies/pod-privileged.wasm',
        settings: { skip: ['kube-system'] },
        policyMode: 'monitor',
        allowedToMutate: true,
        customMessage: 'ask the platform team',
        timeoutSeconds: 5,
        failurePolicy: 'Ignore',
        contextAwareResources: [{ apiVersion: 'v1', kind: 'Namespace' }],
        hostCapabilities: ['*'],
      },
    ]);
  });

  it('reads null settings as {} and an empty file as no policies', () => {
    expect(parsePoliciesFile('p:\n  module: file:///p.wasm\n  settings: null\n')[0]?.settings).toEqual({});
    expect(parsePoliciesFile('')).toEqual([]);
  });

  it('reports every problem of every entry together', () => {
    const parse = () =>
      parsePoliciesFile(
        `
a/b: {module: file:///x.wasm}
no-module: {policyMode: audit}
bad-types: {module: file:///x.wasm, settings: [1], allowedToMutate: "yes", timeoutEvalSeconds: 0}
group: {expression: "a()", message: m, policies: {a: {module: file:///a.wasm}}}
`,
        '/etc/castellan/policies.yml',
      );
    expect(parse).toThrow(expect.objectContaining({ code: ControlErrorCode.PoliciesFileInvalid }));
    let message = '';
    try {
      parse();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('/etc/castellan/policies.yml has 7 problems');
    expect(message).toContain('a/b: a policy id must not contain "/"');
    expect(message).toContain('no-module: `module` is required');
    expect(message).toContain('no-module: `policyMode` must be protect or monitor (got "audit")');
    expect(message).toContain('bad-types: `settings` must be a map');
    expect(message).toContain('bad-types: `allowedToMutate` must be true or false');
    expect(message).toContain('bad-types: `timeoutEvalSeconds` must be a whole number');
    expect(message).toContain('group: policy groups');
  });

  it('refuses ids a NATS subject cannot carry and text that is not YAML', () => {
    expect(() => parsePoliciesFile('my.policy: {module: file:///x.wasm}')).toThrow(
      'my.policy: policy id "my.policy" cannot be used in a NATS subject',
    );
    expect(() => parsePoliciesFile('a: [')).toThrow('policies.yml: not valid YAML');
    expect(() => parsePoliciesFile('- a')).toThrow('expected a map of policy id → policy');
  });
});
