import { decodeMessage, encodeMessage } from './codec.js';
import type { MessageFields } from './codec.js';

/** Deadline of one evaluation when a policy sets none (policy-server's `--policy-timeout`). */
export const DEFAULT_POLICY_TIMEOUT_SECONDS = 2;

export const POLICY_MODES = ['protect', 'monitor'] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

export const FAILURE_POLICIES = ['Ignore', 'Fail'] as const;
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

export const EXECUTION_MODES = ['kubewarden-wapc', 'opa', 'gatekeeper', 'wasi'] as const;
export type ExecutionModeName = (typeof EXECUTION_MODES)[number];

/** A resource a context-aware policy may read (spec §2.3). */
export interface ContextAwareResource {
  apiVersion: string;
  kind: string;
}

/**
 * The desired state of one policy in one pool: the value of key `<pool>.<policyId>` in the policy
 * KV. Each write is a new revision (the KV entry's revision), which evaluators report loaded.
 */
export interface PolicyConfig {
  policyId: string;
  pool: string;
  /** The module as a fetcher stored it: evaluators read it from the module store by sha256. */
  module: { url: string; sha256: string };
  /** Overrides the mode of the module's metadata. */
  executionMode?: ExecutionModeName;
  settings: MessageFields;
  policyMode: PolicyMode;
  allowedToMutate: boolean;
  /** Replaces the message of a denial (spec §6.5 step 3). */
  customMessage?: string;
  timeoutSeconds: number;
  /** What the gateway answers itself when the pool does not answer. */
  failurePolicy: FailurePolicy;
  contextAwareResources: ContextAwareResource[];
  /** Host-capability allow-list (spec §2.1); absent = none but tracing. */
  hostCapabilities?: string[];
}

export function encodePolicyConfig(config: PolicyConfig): Uint8Array {
  return encodeMessage(config);
}

export function decodePolicyConfig(bytes: Uint8Array): PolicyConfig {
  const reader = decodeMessage(bytes, 'PolicyConfig');
  const module = reader.object('module');
  const executionMode = reader.optionalString('executionMode');
  const customMessage = reader.optionalString('customMessage');
  return {
    policyId: reader.string('policyId'),
    pool: reader.string('pool'),
    module: { url: module.string('url'), sha256: module.string('sha256') },
    ...(executionMode !== undefined ? { executionMode: reader.oneOf('executionMode', EXECUTION_MODES) } : {}),
    settings: reader.json('settings'),
    policyMode: reader.oneOf('policyMode', POLICY_MODES),
    allowedToMutate: reader.boolean('allowedToMutate'),
    ...(customMessage !== undefined ? { customMessage } : {}),
    timeoutSeconds: reader.number('timeoutSeconds'),
    failurePolicy: reader.oneOf('failurePolicy', FAILURE_POLICIES),
    contextAwareResources: reader
      .objectList('contextAwareResources')
      .map((resource) => ({ apiVersion: resource.string('apiVersion'), kind: resource.string('kind') })),
    ...(reader.has('hostCapabilities') ? { hostCapabilities: reader.stringList('hostCapabilities') } : {}),
  };
}
