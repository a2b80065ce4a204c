/**
 * Validation of the `rules` of policy metadata. They become the rules of a Kubernetes webhook configuration,
 * so they follow the API server's own checks (admissionregistration validation), quirks included.
 */
import { isJsonObject, jsonTypeName } from '../admission/json-value.js';

export const RULE_OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT', '*'] as const;
export type RuleOperation = (typeof RULE_OPERATIONS)[number];

export interface PolicyRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: RuleOperation[];
}

/** Reads `rules`, recording every problem (prefixed with its field path) in `problems`. */
export function readRules(value: unknown, problems: string[]): PolicyRule[] {
  if (!Array.isArray(value)) {
    problems.push(`rules: ${describeListRequirement(value, 'a list')}`);
    return [];
  }
  return value.map((rule: unknown, index) => readRule(rule, `rules[${index}]`, problems));
}

function readRule(value: unknown, path: string, problems: string[]): PolicyRule {
  if (!isJsonObject(value)) {
    problems.push(`${path}: must be a map (got ${jsonTypeName(value)})`);
    return { apiGroups: [], apiVersions: [], resources: [], operations: [] };
  }
  const apiGroups = readRuleList(value.apiGroups, `${path}.apiGroups`, problems);
  const apiVersions = readRuleList(value.apiVersions, `${path}.apiVersions`, problems);
  const resources = readRuleList(value.resources, `${path}.resources`, problems);
  const operations = readRuleList(value.operations, `${path}.operations`, problems).filter(
    (operation, index) => isRuleOperation(operation, `${path}.operations[${index}]`, problems),
  );
  checkWildcardAlone(apiGroups, `${path}.apiGroups`, problems);
  checkWildcardAlone(apiVersions, `${path}.apiVersions`, problems);
  checkResources(resources, `${path}.resources`, problems);
  checkWildcardAlone(operations, `${path}.operations`, problems);
  return { apiGroups, apiVersions, resources, operations };
}

/** A required, non-empty list of strings. */
function readRuleList(value: unknown, path: string, problems: string[]): string[] {
  if (!Array.isArray(value)) {
    problems.push(`${path}: ${describeListRequirement(value, 'a non-empty list of strings')}`);
    return [];
  }
  if (value.length === 0) problems.push(`${path}: must not be empty`);
  return value.filter((item: unknown, index): item is string => {
    if (typeof item === 'string') return true;
    problems.push(`${path}[${index}]: must be a string (got ${jsonTypeName(item)})`);
    return false;
  });
}

function isRuleOperation(operation: string, path: string, problems: string[]): operation is RuleOperation {
  if ((RULE_OPERATIONS as readonly string[]).includes(operation)) return true;
  problems.push(`${path}: ${JSON.stringify(operation)} is not one of ${RULE_OPERATIONS.join(', ')}`);
  return false;
}

function checkWildcardAlone(list: readonly string[], path: string, problems: string[]): void {
  if (list.includes('*') && list.length > 1)
    problems.push(`${path}: '*' must be the only element when present`);
}

/**
 * The API server's resource rules: the double wildcard stands alone, `*` excludes plain resources, `x/*`
 * excludes a later `x/sub` and `*` followed by `/sub` excludes a later `y/sub`. As in the API server (and
 * Kubewarden, which copied it), only the last plain entry decides whether plain resources are present, so
 * `["pods", "*"]` passes where `["*", "pods"]` fails; we keep that so that the same metadata is accepted.
 */
function checkResources(resources: readonly string[], path: string, problems: string[]): void {
  const resourcesWithWildcardSubresource = new Set<string>();
  const subresourcesWithWildcardResource = new Set<string>();
  let hasDoubleWildcard = false;
  let hasSingleWildcard = false;
  let hasResourceWithoutSubresource = false;
  resources.forEach((entry, index) => {
    if (entry === '') {
      problems.push(`${path}[${index}]: must not be empty`);
      return;
    }
    if (entry === '*/*') hasDoubleWildcard = true;
    if (entry === '*') hasSingleWildcard = true;
    const slash = entry.indexOf('/');
    if (slash === -1) {
      hasResourceWithoutSubresource = entry !== '*';
      return;
    }
    const resource = entry.slice(0, slash);
    const subresource = entry.slice(slash + 1);
    if (resourcesWithWildcardSubresource.has(resource)) {
      problems.push(`${path}[${index}]: if '${resource}/*' is present, must not specify ${entry}`);
    }
    if (subresourcesWithWildcardResource.has(subresource)) {
      problems.push(`${path}[${index}]: if '*/${subresource}' is present, must not specify ${entry}`);
    }
    if (subresource === '*') resourcesWithWildcardSubresource.add(resource);
    if (resource === '*') subresourcesWithWildcardResource.add(subresource);
  });
  if (resources.length > 1 && hasDoubleWildcard) {
    problems.push(`${path}: if '*/*' is present, must not specify other resources`);
  }
  if (hasSingleWildcard && hasResourceWithoutSubresource) {
    problems.push(`${path}: if '*' is present, must not specify other resources without subresources`);
  }
}

function describeListRequirement(value: unknown, expected: string): string {
  return value === undefined
    ? `is required and must be ${expected}`
    : `must be ${expected} (got ${jsonTypeName(value)})`;
}
