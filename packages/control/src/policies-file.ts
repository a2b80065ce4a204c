import {
  DEFAULT_POLICY_TIMEOUT_SECONDS,
  GROUP_MEMBER_NAME_PATTERN,
  messageOf,
  subjectToken,
} from '@castellan/proto';
import type { ContextAwareResource, FailurePolicy, MessageFields, PolicyMode } from '@castellan/proto';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { DEFAULT_FAILURE_POLICY, desiredPolicyGroup } from './desired-policy.js';
import type { DesiredGroupMember, DesiredPolicy } from './desired-policy.js';
import { ControlError, ControlErrorCode } from './errors.js';

type Fields = Record<string, unknown>;

/**
 * Parses a policy-server `policies.yml` (docs/kubewarden-compatibility.md#policies-file): policy id → entry,
 * a policy (`module`) or a policy group (`policies` + `expression`); every problem of every entry is reported
 * together. Unknown keys of policies and groups are ignored, as policy-server does (its controller adds
 * `namespacedName`); unknown keys of group members are refused, as there. Castellan reads one key more on
 * policies and groups: `failurePolicy` (`Fail` by default), what the gateway answers when no evaluator does.
 */
export function parsePoliciesFile(text: string, source = 'policies.yml'): DesiredPolicy[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    const reason = messageOf(error);
    throw new ControlError(ControlErrorCode.PoliciesFileInvalid, `${source}: not valid YAML: ${reason}`);
  }
  if (document === null || document === undefined) return [];
  if (!isFields(document)) {
    throw new ControlError(
      ControlErrorCode.PoliciesFileInvalid,
      `${source}: expected a map of policy id → policy`,
    );
  }
  modulePathsAsUrls(document, dirname(source));
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
    problem('expected a map: a policy with `module`, or a group with `policies` and `expression`');
    return undefined;
  }
  const isGroup = 'policies' in entry || 'expression' in entry;
  if (isGroup && 'module' in entry) {
    problem('an entry is either a policy (`module`) or a group (`policies` + `expression`), not both');
    return undefined;
  }
  return isGroup ? readGroup(policyId, entry, problem) : readPolicy(policyId, entry, problem);
}

function readPolicy(policyId: string, entry: Fields, problem: (text: string) => void): DesiredPolicy {
  const moduleUrl = readModuleUrl(entry.module, problem);
  const settings = readSettings(entry.settings, problem);
  const policyMode = readPolicyMode(entry.policyMode, problem);
  const allowedToMutate = entry.allowedToMutate ?? false;
  if (typeof allowedToMutate !== 'boolean') problem('`allowedToMutate` must be true or false');

  const customMessage = entry.message;
  if (customMessage !== undefined && customMessage !== null && typeof customMessage !== 'string') {
    problem('`message` must be a string');
  }
  const timeoutSeconds = readTimeout(entry.timeoutEvalSeconds, problem);
  const failurePolicy = readFailurePolicy(entry.failurePolicy, problem);
  const contextAwareResources = readContextAwareResources(entry.contextAwareResources ?? [], problem);
  const hostCapabilities = readHostCapabilities(entry.hostCapabilities, problem);

  return {
    policyId,
    moduleUrl,
    settings,
    policyMode,
    allowedToMutate: allowedToMutate as boolean,
    ...(typeof customMessage === 'string' ? { customMessage } : {}),
    timeoutSeconds,
    failurePolicy,
    contextAwareResources,
    ...(hostCapabilities !== undefined ? { hostCapabilities } : {}),
  };
}

/**
 * A group (docs/kubewarden-compatibility.md#policies-file): its members' settings, resources and capabilities
 * are their own; the group never mutates (see {@link desiredPolicyGroup}).
 */
function readGroup(policyId: string, entry: Fields, problem: (text: string) => void): DesiredPolicy {
  const expression = entry.expression;
  if (typeof expression !== 'string' || expression.trim() === '') {
    problem('`expression` is required for a group: which members must accept, e.g. "a() || b()"');
  }
  const message = entry.message;
  if (typeof message !== 'string' || message === '') {
    problem('`message` is required for a group: the message of its denials');
  }
  const policyMode = readPolicyMode(entry.policyMode, problem);
  if (
    entry.allowedToMutate !== undefined &&
    entry.allowedToMutate !== null &&
    entry.allowedToMutate !== false
  ) {
    problem('a group never mutates: drop `allowedToMutate`');
  }
  const failurePolicy = readFailurePolicy(entry.failurePolicy, problem);
  const members = readMembers(entry.policies, problem);
  return desiredPolicyGroup({
    policyId,
    group: { expression: expression as string, message: message as string, members },
    policyMode,
    failurePolicy,
  });
}

/** What a member may declare; members reject unknown keys, as policy-server does. */
const MEMBER_KEYS = ['module', 'settings', 'contextAwareResources', 'timeoutEvalSeconds', 'hostCapabilities'];

/**
 * Words the group expression language (CEL) reserves, so no member can be called by them
 * (docs/kubewarden-compatibility.md#policies-file).
 */
const CEL_RESERVED_WORDS = new Set(
  'true false null in as break const continue else for function if import let loop package namespace return var void while'.split(
    ' ',
  ),
);

/** Members in the order the file declares them. */
function readMembers(value: unknown, problem: (text: string) => void): Record<string, DesiredGroupMember> {
  const members: Record<string, DesiredGroupMember> = {};
  if (!isFields(value)) {
    problem('`policies` is required for a group: a map of member name → member with at least `module`');
    return members;
  }
  if (Object.keys(value).length === 0) problem('`policies` must declare at least one member');
  for (const [name, entry] of Object.entries(value)) {
    const memberProblem = (text: string) => problem(`member ${name}: ${text}`);
    const nameProblem = memberNameProblem(name);
    if (nameProblem) memberProblem(nameProblem);
    const member = readMember(entry, memberProblem);
    if (member && !nameProblem) members[name] = member;
  }
  return members;
}

function memberNameProblem(name: string): string | undefined {
  if (name.includes('/')) return 'a member name must not contain "/"';
  if (!GROUP_MEMBER_NAME_PATTERN.test(name)) {
    return 'a member name must be letters, digits and _, not starting with a digit, so the expression can call it';
  }
  if (CEL_RESERVED_WORDS.has(name)) return `"${name}" is a reserved word of the expression language`;
  // A CBOR map cannot carry this key faithfully (decoders rename it against prototype pollution).
  if (name === '__proto__') return '"__proto__" cannot be a member name';
  return undefined;
}

function readMember(entry: unknown, problem: (text: string) => void): DesiredGroupMember | undefined {
  if (!isFields(entry)) {
    problem('expected a map with at least `module`');
    return undefined;
  }
  for (const key of Object.keys(entry)) {
    if (!MEMBER_KEYS.includes(key))
      problem(`unknown key \`${key}\` (a member has ${MEMBER_KEYS.join(', ')})`);
  }
  const hostCapabilities = readHostCapabilities(entry.hostCapabilities, problem);
  return {
    moduleUrl: readModuleUrl(entry.module, problem),
    settings: readSettings(entry.settings, problem),
    timeoutSeconds: readTimeout(entry.timeoutEvalSeconds, problem),
    contextAwareResources: readContextAwareResources(entry.contextAwareResources ?? [], problem),
    ...(hostCapabilities !== undefined ? { hostCapabilities } : {}),
  };
}

function readModuleUrl(value: unknown, problem: (text: string) => void): string {
  if (typeof value !== 'string' || value === '') {
    problem('`module` is required (a registry://, https:// or file:// URL, or a path to a .wasm file)');
  }
  return value as string;
}

/**
 * Users type paths where policy-server wants `file://` URLs: an absolute path, or one relative to
 * the policies file (`./`, `../`), becomes the file URL it names; anything else is left as written.
 */
function modulePathsAsUrls(document: Fields, baseDir: string): void {
  const rewrite = (entry: unknown): void => {
    if (!isFields(entry) || typeof entry.module !== 'string') return;
    const path = entry.module;
    if (path.startsWith('/') || path.startsWith('./') || path.startsWith('../')) {
      entry.module = pathToFileURL(resolve(baseDir, path)).href;
    }
  };
  for (const entry of Object.values(document)) {
    rewrite(entry);
    if (isFields(entry) && isFields(entry.policies)) Object.values(entry.policies).forEach(rewrite);
  }
}

function readSettings(value: unknown, problem: (text: string) => void): MessageFields {
  const settings = value ?? {};
  if (!isFields(settings)) problem('`settings` must be a map');
  return settings as MessageFields;
}

function readPolicyMode(value: unknown, problem: (text: string) => void): PolicyMode {
  const policyMode = value ?? 'protect';
  if (policyMode !== 'protect' && policyMode !== 'monitor') {
    problem(`\`policyMode\` must be protect or monitor (got ${JSON.stringify(policyMode)})`);
  }
  return policyMode as PolicyMode;
}

function readTimeout(value: unknown, problem: (text: string) => void): number {
  const timeoutSeconds = value ?? DEFAULT_POLICY_TIMEOUT_SECONDS;
  if (typeof timeoutSeconds !== 'number' || !Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
    problem('`timeoutEvalSeconds` must be a whole number of seconds, at least 1');
  }
  return timeoutSeconds as number;
}

function readFailurePolicy(value: unknown, problem: (text: string) => void): FailurePolicy {
  const failurePolicy = value ?? DEFAULT_FAILURE_POLICY;
  if (failurePolicy !== 'Fail' && failurePolicy !== 'Ignore') {
    problem(`\`failurePolicy\` must be Fail or Ignore (got ${JSON.stringify(failurePolicy)})`);
  }
  return failurePolicy as FailurePolicy;
}

function readHostCapabilities(value: unknown, problem: (text: string) => void): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    problem('`hostCapabilities` must be a list of strings');
  }
  return value as string[];
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
