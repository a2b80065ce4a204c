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

  it('takes a path where a file:// URL belongs: absolute, or relative to the policies file', () => {
    const policies = parsePoliciesFile(
      `
absolute:
  module: /srv/policies/pod-privileged.wasm
relative:
  module: ./build/required labels.wasm
group:
  policies:
    up: {module: ../shared/accept.wasm}
    oci: {module: ghcr.io/kubewarden/policies/safe-labels:v1}
    web: {module: https://example.com/p.wasm}
  expression: up() && oci() && web()
  message: no
`,
      '/home/me/castellan/policies.yml',
    );
    expect(policies.map((policy) => policy.moduleUrl)).toEqual([
      'file:///srv/policies/pod-privileged.wasm',
      'file:///home/me/castellan/build/required%20labels.wasm',
      undefined,
    ]);
    expect(Object.values(policies[2]?.group?.members ?? {}).map((member) => member.moduleUrl)).toEqual([
      'file:///home/me/shared/accept.wasm',
      'ghcr.io/kubewarden/policies/safe-labels:v1',
      'https://example.com/p.wasm',
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
group: {expression: "a()", message: m, policies: {a: {module: file:///a.wasm, settings: [1]}}}
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
    expect(message).toContain('group: member a: `settings` must be a map');
  });

  it('reads policy groups with their members in declaration order', () => {
    const [group, second] = parsePoliciesFile(`
safe-pods:
  namespacedName: default/safe-pods   # added by the controller; ignored
  policyMode: monitor
  failurePolicy: Ignore
  expression: "not_privileged() || (labelled() && !_host_ns())"
  message: the pod is not safe
  policies:
    not_privileged: {module: registry://ghcr.io/kubewarden/policies/pod-privileged:v0.2.1}
    labelled:
      module: file:///policies/required-labels.wasm
      settings: {labels: [team]}
      contextAwareResources: [{apiVersion: v1, kind: Namespace}]
      timeoutEvalSeconds: 5
      hostCapabilities: ["kubernetes/*"]
    _host_ns: {module: file:///policies/host-namespaces.wasm, settings: null, timeoutEvalSeconds: 3}
slow:
  expression: a() && b()
  message: too slow
  policies: {a: {module: file:///a.wasm, timeoutEvalSeconds: 20}, b: {module: file:///b.wasm, timeoutEvalSeconds: 20}}
`);
    expect(group).toEqual({
      policyId: 'safe-pods',
      group: {
        expression: 'not_privileged() || (labelled() && !_host_ns())',
        message: 'the pod is not safe',
        members: {
          not_privileged: {
            moduleUrl: 'registry://ghcr.io/kubewarden/policies/pod-privileged:v0.2.1',
            settings: {},
            timeoutSeconds: 2,
            contextAwareResources: [],
          },
          labelled: {
            moduleUrl: 'file:///policies/required-labels.wasm',
            settings: { labels: ['team'] },
            timeoutSeconds: 5,
            contextAwareResources: [{ apiVersion: 'v1', kind: 'Namespace' }],
            hostCapabilities: ['kubernetes/*'],
          },
          _host_ns: {
            moduleUrl: 'file:///policies/host-namespaces.wasm',
            settings: {},
            timeoutSeconds: 3,
            contextAwareResources: [],
          },
        },
      },
      settings: {},
      policyMode: 'monitor',
      allowedToMutate: false,
      // 2 + 5 + 3: the gateway waits for every member.
      timeoutSeconds: 10,
      failurePolicy: 'Ignore',
      contextAwareResources: [],
    });
    expect(Object.keys(group?.group?.members ?? {})).toEqual(['not_privileged', 'labelled', '_host_ns']);
    expect(group).not.toHaveProperty('moduleUrl');
    // 20 + 20, capped at what the API server waits for a webhook.
    expect(second?.timeoutSeconds).toBe(30);
    expect(second?.policyMode).toBe('protect');
    expect(second?.failurePolicy).toBe('Fail');
  });

  it('reports every problem of a group and its members', () => {
    let message = '';
    try {
      parsePoliciesFile(`
no-expression: {message: m, policies: {a: {module: file:///a.wasm}}}
no-message: {expression: "a()", message: "", policies: {a: {module: file:///a.wasm}}}
no-members: {expression: "a()", message: m}
empty: {expression: "a()", message: m, policies: {}}
both: {module: file:///x.wasm, expression: "a()", message: m, policies: {a: {module: file:///a.wasm}}}
mutating: {expression: "a()", message: m, allowedToMutate: true, policies: {a: {module: file:///a.wasm}}}
bad-members:
  expression: "a()"
  message: m
  policies:
    a/b: {module: file:///a.wasm}
    1st: {module: file:///a.wasm}
    if: {module: file:///a.wasm}
    __proto__: {module: file:///a.wasm}
    no_module: {settings: {}}
    extra: {module: file:///a.wasm, policyMode: monitor, allowedToMutate: false}
    not_a_map: file:///a.wasm
    bad_types: {module: file:///a.wasm, timeoutEvalSeconds: 1.5, hostCapabilities: "*", contextAwareResources: [{kind: Pod}]}
`);
    } catch (error) {
      expect(error).toMatchObject({ code: ControlErrorCode.PoliciesFileInvalid });
      message = (error as Error).message;
    }
    const problems = [
      'no-expression: `expression` is required for a group',
      'no-message: `message` is required for a group',
      'no-members: `policies` is required for a group: a map of member name → member with at least `module`',
      'empty: `policies` must declare at least one member',
      'both: an entry is either a policy (`module`) or a group (`policies` + `expression`), not both',
      'mutating: a group never mutates: drop `allowedToMutate`',
      'bad-members: member a/b: a member name must not contain "/"',
      'bad-members: member 1st: a member name must be letters, digits and _, not starting with a digit',
      'bad-members: member if: "if" is a reserved word of the expression language',
      'bad-members: member __proto__: "__proto__" cannot be a member name',
      'bad-members: member no_module: `module` is required',
      'bad-members: member extra: unknown key `policyMode` (a member has module, settings, contextAwareResources, timeoutEvalSeconds, hostCapabilities)',
      'bad-members: member extra: unknown key `allowedToMutate`',
      'bad-members: member not_a_map: expected a map with at least `module`',
      'bad-members: member bad_types: `timeoutEvalSeconds` must be a whole number of seconds, at least 1',
      'bad-members: member bad_types: `hostCapabilities` must be a list of strings',
      'bad-members: member bad_types: `contextAwareResources[0]` must be {apiVersion, kind} strings',
    ];
    expect(message).toContain(`policies.yml has ${problems.length} problems`);
    for (const problem of problems) expect(message).toContain(problem);
  });

  it('refuses ids a NATS subject cannot carry and text that is not YAML', () => {
    expect(() => parsePoliciesFile('my.policy: {module: file:///x.wasm}')).toThrow(
      'my.policy: policy id "my.policy" cannot be used in a NATS subject',
    );
    expect(() => parsePoliciesFile('a: [')).toThrow('policies.yml: not valid YAML');
    expect(() => parsePoliciesFile('- a')).toThrow('expected a map of policy id → policy');
  });
});
