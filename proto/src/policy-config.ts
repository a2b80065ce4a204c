import { decodeMessage, encodeMessage } from './codec.js';
import type { FieldReader, MessageFields } from './codec.js';
import { ProtoError, ProtoErrorCode } from './errors.js';

/** Deadline of one evaluation when a policy sets none (policy-server's `--policy-timeout`). */
export const DEFAULT_POLICY_TIMEOUT_SECONDS = 2;

export const POLICY_MODES = ['protect', 'monitor'] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

export const FAILURE_POLICIES = ['Ignore', 'Fail'] as const;
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

export const EXECUTION_MODES = ['kubewarden-wapc', 'opa', 'gatekeeper', 'wasi'] as const;
export type ExecutionModeName = (typeof EXECUTION_MODES)[number];

/** A resource a context-aware policy may read (docs/kubewarden-compatibility.md#context-aware-resources). */
export interface ContextAwareResource {
  apiVersion: string;
  kind: string;
}

/**
 * What a group member's name must look like (docs/kubewarden-compatibility.md#policies-file): the group's
 * expression calls members as functions, so a name must be an identifier.
 */
export const GROUP_MEMBER_NAME_PATTERN = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** One member of a policy group: a module of its own with its own settings and deadline. */
export interface GroupMemberConfig {
  /** As {@link PolicyConfig.module}. */
  module: { url: string; sha256: string };
  settings: MessageFields;
  timeoutSeconds: number;
  contextAwareResources: ContextAwareResource[];
  /**
   * Host-capability allow-list (docs/kubewarden-compatibility.md#capability-allow-lists); absent = none but
   * tracing.
   */
  hostCapabilities?: string[];
}

/**
 * A policy group (docs/kubewarden-compatibility.md#policy-groups): members combined by a boolean expression
 * over their verdicts.
 */
export interface PolicyGroupConfig {
  /** Members called as zero-argument functions, e.g. `a() || (b() && !c())`. */
  expression: string;
  /** The message of a denial by the group. */
  message: string;
  /** member name → member, in declaration order */
  members: Record<string, GroupMemberConfig>;
}

/**
 * The desired state of one policy in one pool: the value of key `<pool>.<policyId>` in the policy
 * KV. Each write is a new revision (the KV entry's revision), which evaluators report loaded.
 */
export interface PolicyConfig {
  policyId: string;
  pool: string;
  /**
   * The module as a fetcher stored it: evaluators read it from the module store by sha256.
   * Exactly one of `module` and `group` is present.
   */
  module?: { url: string; sha256: string };
  /**
   * A policy group instead of a module. Then `settings` is `{}`, `allowedToMutate` false,
   * `contextAwareResources` empty (members carry their own), and `timeoutSeconds` is the deadline
   * of the whole group.
   */
  group?: PolicyGroupConfig;
  /** Overrides the mode of the module's metadata. */
  executionMode?: ExecutionModeName;
  settings: MessageFields;
  policyMode: PolicyMode;
  allowedToMutate: boolean;
  /** Replaces the message of a denial (docs/kubewarden-compatibility.md#response-processing, step 3). */
  customMessage?: string;
  timeoutSeconds: number;
  /** What the gateway answers itself when the pool does not answer. */
  failurePolicy: FailurePolicy;
  contextAwareResources: ContextAwareResource[];
  /**
   * Host-capability allow-list (docs/kubewarden-compatibility.md#capability-allow-lists); absent = none but
   * tracing.
   */
  hostCapabilities?: string[];
}

export function encodePolicyConfig(config: PolicyConfig): Uint8Array {
  return encodeMessage(config);
}

export function decodePolicyConfig(bytes: Uint8Array): PolicyConfig {
  const reader = decodeMessage(bytes, 'PolicyConfig');
  const hasModule = reader.has('module');
  if (hasModule === reader.has('group')) {
    throw new ProtoError(
      ProtoErrorCode.MessageInvalid,
      `PolicyConfig: expected exactly one of module and group (got ${hasModule ? 'both' : 'neither'})`,
    );
  }
  const executionMode = reader.optionalString('executionMode');
  const customMessage = reader.optionalString('customMessage');
  return {
    policyId: reader.string('policyId'),
    pool: reader.string('pool'),
    ...(hasModule
      ? { module: readModule(reader.object('module')) }
      : { group: readGroup(reader.object('group')) }),
    ...(executionMode !== undefined ? { executionMode: reader.oneOf('executionMode', EXECUTION_MODES) } : {}),
    settings: reader.json('settings'),
    policyMode: reader.oneOf('policyMode', POLICY_MODES),
    allowedToMutate: reader.boolean('allowedToMutate'),
    ...(customMessage !== undefined ? { customMessage } : {}),
    timeoutSeconds: reader.number('timeoutSeconds'),
    failurePolicy: reader.oneOf('failurePolicy', FAILURE_POLICIES),
    contextAwareResources: readContextAwareResources(reader),
    ...(reader.has('hostCapabilities') ? { hostCapabilities: reader.stringList('hostCapabilities') } : {}),
  };
}

function readModule(module: FieldReader): { url: string; sha256: string } {
  return { url: module.string('url'), sha256: module.string('sha256') };
}

function readContextAwareResources(reader: FieldReader): ContextAwareResource[] {
  return reader
    .objectList('contextAwareResources')
    .map((resource) => ({ apiVersion: resource.string('apiVersion'), kind: resource.string('kind') }));
}

function readGroup(group: FieldReader): PolicyGroupConfig {
  const membersReader = group.object('members');
  const names = membersReader.keys();
  if (names.length === 0) {
    throw new ProtoError(
      ProtoErrorCode.MessageInvalid,
      'PolicyConfig.group.members: expected at least one member',
    );
  }
  // Built in the order the map was written: the order members were declared in.
  const members: Record<string, GroupMemberConfig> = {};
  for (const name of names) {
    if (!GROUP_MEMBER_NAME_PATTERN.test(name)) {
      throw new ProtoError(
        ProtoErrorCode.MessageInvalid,
        `PolicyConfig.group.members: expected member names matching ${GROUP_MEMBER_NAME_PATTERN.source} (got ${JSON.stringify(name)})`,
      );
    }
    const member = membersReader.object(name);
    members[name] = {
      module: readModule(member.object('module')),
      settings: member.json('settings'),
      timeoutSeconds: member.number('timeoutSeconds'),
      contextAwareResources: readContextAwareResources(member),
      ...(member.has('hostCapabilities') ? { hostCapabilities: member.stringList('hostCapabilities') } : {}),
    };
  }
  return { expression: group.string('expression'), message: group.string('message'), members };
}
