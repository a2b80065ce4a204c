import { describe, expect, it } from 'vitest';
import { readRules } from './webhook-rules.js';

const podRule = {
  apiGroups: [''],
  apiVersions: ['v1'],
  resources: ['pods'],
  operations: ['CREATE', 'UPDATE'],
};

function problemsOf(rules: unknown): string[] {
  const problems: string[] = [];
  readRules(rules, problems);
  return problems;
}

function resourceProblems(resources: string[]): string[] {
  return problemsOf([{ ...podRule, resources }]);
}

describe('readRules', () => {
  it('reads valid rules, keeping only the four rule fields', () => {
    const problems: string[] = [];
    expect(readRules([{ ...podRule, scope: 'Namespaced' }], problems)).toEqual([podRule]);
    expect(problems).toEqual([]);
  });

  it('accepts an empty rule list', () => {
    expect(problemsOf([])).toEqual([]);
  });

  it('requires a list', () => {
    expect(problemsOf(undefined)).toEqual(['rules: is required and must be a list']);
    expect(problemsOf({ ...podRule })).toEqual(['rules: must be a list (got map)']);
  });

  it('requires each rule to be a map with four non-empty lists of strings', () => {
    expect(
      problemsOf(['pods', { apiGroups: [], apiVersions: 'v1', resources: [3], operations: null }]),
    ).toEqual([
      'rules[0]: must be a map (got string)',
      'rules[1].apiGroups: must not be empty',
      'rules[1].apiVersions: must be a non-empty list of strings (got string)',
      'rules[1].resources[0]: must be a string (got number)',
      'rules[1].operations: must be a non-empty list of strings (got null)',
    ]);
    expect(problemsOf([{}])).toEqual([
      'rules[0].apiGroups: is required and must be a non-empty list of strings',
      'rules[0].apiVersions: is required and must be a non-empty list of strings',
      'rules[0].resources: is required and must be a non-empty list of strings',
      'rules[0].operations: is required and must be a non-empty list of strings',
    ]);
  });

  it('names every unknown operation with its index', () => {
    expect(problemsOf([{ ...podRule, operations: ['CREATE', 'PATCH', 'delete'] }])).toEqual([
      'rules[0].operations[1]: "PATCH" is not one of CREATE, UPDATE, DELETE, CONNECT, *',
      'rules[0].operations[2]: "delete" is not one of CREATE, UPDATE, DELETE, CONNECT, *',
    ]);
  });

  it("requires '*' to stand alone in apiGroups, apiVersions and operations", () => {
    expect(
      problemsOf([
        { ...podRule, apiGroups: ['', '*'], apiVersions: ['*', 'v1'], operations: ['*', 'CREATE'] },
      ]),
    ).toEqual([
      "rules[0].apiGroups: '*' must be the only element when present",
      "rules[0].apiVersions: '*' must be the only element when present",
      "rules[0].operations: '*' must be the only element when present",
    ]);
    expect(
      problemsOf([{ apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], operations: ['*'] }]),
    ).toEqual([]);
  });
});

describe('resource rules (the API server checks)', () => {
  it.each([
    [['*/*']],
    [['*']],
    [['pods', 'pods/log']],
    [['*', 'a/b', 'a/*', '*/b']],
    [['a/*', 'a']],
    [['a/x', 'a/*']],
    // Only the last plain entry counts, as in the API server and Kubewarden.
    [['pods', '*']],
  ])('accepts %j', (resources) => {
    expect(resourceProblems(resources)).toEqual([]);
  });

  it('refuses empty resource names, naming each', () => {
    expect(resourceProblems(['pods', '', ''])).toEqual([
      'rules[0].resources[1]: must not be empty',
      'rules[0].resources[2]: must not be empty',
    ]);
  });

  it("refuses '*/*' with anything else", () => {
    expect(resourceProblems(['*/*', 'pods'])).toEqual([
      "rules[0].resources: if '*/*' is present, must not specify other resources",
    ]);
  });

  it("refuses '*' followed by a plain resource", () => {
    expect(resourceProblems(['*', 'pods'])).toEqual([
      "rules[0].resources: if '*' is present, must not specify other resources without subresources",
    ]);
  });

  it("refuses x/sub after 'x/*' and y/sub after '*/sub'", () => {
    expect(resourceProblems(['a/*', 'a/x', '*/log', 'pods/log'])).toEqual([
      "rules[0].resources[1]: if 'a/*' is present, must not specify a/x",
      "rules[0].resources[3]: if '*/log' is present, must not specify pods/log",
    ]);
  });

  it('splits at the first slash only', () => {
    expect(resourceProblems(['a/*', 'a/b/c'])).toEqual([
      "rules[0].resources[1]: if 'a/*' is present, must not specify a/b/c",
    ]);
  });
});
