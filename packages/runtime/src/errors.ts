import { CastellanError } from '@castellan/proto';
import type { WireError } from '@castellan/proto';

/**
 * Typed errors of the policy runtime. Every error has a stable `code` (listed in docs/errors.md);
 * across worker threads and NATS they travel as `{ code, message }` and are recognised by code.
 */
export const RuntimeErrorCode = {
  ModuleInvalid: 'CASTELLAN_RUNTIME_MODULE_INVALID',
  ModuleLoadFailed: 'CASTELLAN_RUNTIME_MODULE_LOAD_FAILED',
  MetadataInvalid: 'CASTELLAN_RUNTIME_METADATA_INVALID',
  ExecutionModeMismatch: 'CASTELLAN_RUNTIME_EXECUTION_MODE_MISMATCH',
  ProtocolVersionUnsupported: 'CASTELLAN_RUNTIME_PROTOCOL_VERSION_UNSUPPORTED',
  RegoBuiltinsMissing: 'CASTELLAN_RUNTIME_REGO_BUILTINS_MISSING',
  RequestInvalid: 'CASTELLAN_RUNTIME_REQUEST_INVALID',
  HostCapabilityPatternInvalid: 'CASTELLAN_RUNTIME_HOST_CAPABILITY_PATTERN_INVALID',
  WasmEncoding: 'CASTELLAN_RUNTIME_WASM_ENCODING',
  EvaluationFailed: 'CASTELLAN_RUNTIME_EVALUATION_FAILED',
  PolicyNotLoaded: 'CASTELLAN_RUNTIME_POLICY_NOT_LOADED',
  MinimumKubewardenVersionUnmet: 'CASTELLAN_RUNTIME_MINIMUM_KUBEWARDEN_VERSION_UNMET',
  MemoryLimitExceeded: 'CASTELLAN_RUNTIME_MEMORY_LIMIT_EXCEEDED',
  GroupExpressionInvalid: 'CASTELLAN_RUNTIME_GROUP_EXPRESSION_INVALID',
} as const;

export type RuntimeErrorCode = (typeof RuntimeErrorCode)[keyof typeof RuntimeErrorCode];

/** The serialisable form of an error, as it crosses a worker thread or a NATS message. */
export type ErrorRecord = WireError;

export class RuntimeError extends CastellanError<RuntimeErrorCode> {
  override readonly name = 'RuntimeError';

  static fromRecord(record: ErrorRecord): RuntimeError {
    const known = Object.values(RuntimeErrorCode) as string[];
    const code = (
      known.includes(record.code) ? record.code : RuntimeErrorCode.ModuleLoadFailed
    ) as RuntimeErrorCode;
    return new RuntimeError(code, record.message);
  }
}

/**
 * The message of any thrown value, for wrapping foreign errors: traps, library errors, thrown
 * strings, and the plain `{message}` objects `@open-policy-agent/opa-wasm` throws.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    return (error as { message: string }).message;
  }
  return String(error);
}
