import { DEFAULT_POLICY_TIMEOUT_SECONDS, subjectToken } from '@castellan/proto';
import type { ContextAwareResource, MessageFields } from '@castellan/proto';
import { parse } from 'yaml';
import { DEFAULT_FAILURE_POLICY } from './desired-policy.js';
import type { DesiredPolicy } from './desired-policy.js';
import { ControlError, ControlErrorCode } from './errors.js';

type Fields = Record<string, unknown>;

/**
 * Parses a policy-server `policies.yml` (spec §6.2): policy id → entry. Individual policies are
 * supported; every problem of every entry is reported together. Unknown keys are ignored, as
 * policy-server does (its controller adds `namespacedName`). Castellan reads one key more:
 * `failurePolicy` (`Fail` by default), what the gateway answers when no evaluator does.
 */
export function parsePoliciesFile(text: string, source = 'policies.yml'): DesiredPolicy[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ControlError(ControlErrorCode.PoliciesFileInvalid, `${source}: not valid YAML: ${reason}`);
  }
  if (document === null || document === undefined) return [];
  if (!isFields(document)) {
    throw new ControlError(
      ControlErrorCode.PoliciesFileInvalid,
      `${source}: expected a map of policy id → policy`,
    );
  }
  const problems: string[] = [];
  const policies: DesiredPolicy[] = [];
  for (const [policyId, entry] of Object.entries(document)) {
    const entryProblems: string[] = [];
    const policy = readEntry(policyId, entry, (problem) => entryProblems.push(problem));
    if (entryProblems.length > 0) problems.push(...entryProblems.map((problem) => `${policyId}: ${problem}`));
    else if (policy) policies.push(policy);
  }
  if (problems.length > 0) {
    throw new ControlError(
      ControlErrorCode.PoliciesFileInvalid,
      `${source} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  - ${problems.join('\n  - ')}`,
    );
  }
  return policies;
}

/** Reads one entry, reporting each problem; the result is only meaningful when none was reported. */
function readEntry(
  policyId: string,
  entry: unknown,
  problem: (text: string) => void,
): DesiredPolicy | undefined {
  if (policyId.includes('/')) problem('a policy id must not contain "/"');
  else {
    try {
      subjectToken(policyId, 'policy id');
    } catch (error) {
      problem((error as Error).message);
    }
  }
  if (!isFields(entry)) {
    problem('expected a map with at least `module`');
    return undefined;
  }
  if ('policies' in entry || 'expression' in entry) {
    problem(
      'policy groups (`policies` + `expression`) are not supported yet; declare the members as policies',
    );
    return undefined;
  }
  const moduleUrl = entry.module;
  if (typeof moduleUrl !== 'string' || moduleUrl === '')
    problem('`module` is required (a registry://, https:// or file:// URL)');

  const settings = entry.settings ?? {};
  if (!isFields(settings)) problem('`settings` must be a map');

  const policyMode = entry.policyMode ?? 'protect';
  if (policyMode !== 'protect' && policyMode !== 'monitor') {
    problem(`\`policyMode\` must be protect or monitor (got ${JSON.stringify(policyMode)})`);
  }
  const allowedToMutate = entry.allowedToMutate ?? false;
  if (typeof allowedToMutate !== 'boolean') problem('`allowedToMutate` must be true or false');

  const customMessage = entry.message;
  if (customMessage !== undefined && customMessage !== null && typeof customMessage !== 'string') {
    problem('`message` must be a string');
  }
  const timeoutSeconds = entry.timeoutEvalSeconds ?? DEFAULT_POLICY_TIMEOUT_SECONDS;
  if (typeof timeoutSeconds !== 'number' || !Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
    problem('`timeoutEvalSeconds` must be a whole number of seconds, at least 1');
  }
  const failurePolicy = entry.failurePolicy ?? DEFAULT_FAILURE_POLICY;
  if (failurePolicy !== 'Fail' && failurePolicy !== 'Ignore') {
    problem(`\`failurePolicy\` must be Fail or Ignore (got ${JSON.stringify(failurePolicy)})`);
  }
  const contextAwareResources = readContextAwareResources(entry.contextAwareResources ?? [], problem);
  const hostCapabilities = entry.hostCapabilities;
  if (
    hostCapabilities !== undefined &&
    (!Array.isArray(hostCapabilities) || !hostCapabilities.every((item) => typeof item === 'string'))
  ) {
    problem('`hostCapabilities` must be a list of strings');
  }

  return {
    policyId,
    moduleUrl: moduleUrl as string,
    settings: settings as MessageFields,
    policyMode: policyMode as DesiredPolicy['policyMode'],
    allowedToMutate: allowedToMutate as boolean,
    ...(typeof customMessage === 'string' ? { customMessage } : {}),
    timeoutSeconds: timeoutSeconds as number,
    failurePolicy: failurePolicy as DesiredPolicy['failurePolicy'],
    contextAwareResources,
    ...(hostCapabilities !== undefined ? { hostCapabilities: hostCapabilities as string[] } : {}),
  };
}

function readContextAwareResources(value: unknown, problem: (text: string) => void): ContextAwareResource[] {
  if (!Array.isArray(value)) {
    problem('`contextAwareResources` must be a list of {apiVersion, kind}');
    return [];
  }
  return value.flatMap((item: unknown, index) => {
    if (isFields(item) && typeof item.apiVersion === 'string' && typeof item.kind === 'string') {
      return [{ apiVersion: item.apiVersion, kind: item.kind }];
    }
    problem(`\`contextAwareResources[${index}]\` must be {apiVersion, kind} strings`);
    return [];
  });
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
