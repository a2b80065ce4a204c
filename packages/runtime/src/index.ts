export { RuntimeError, RuntimeErrorCode, describeError } from './errors.js';
export type { ErrorRecord } from './errors.js';
export {
  applyPolicyConfiguration,
  buildAdmissionResponse,
  extractAdmissionRequest,
  internalError,
  normaliseAdmissionRequest,
  rejection,
} from './admission/index.js';
export type {
  AdmissionRequest,
  AdmissionResponse,
  PolicyConfiguration,
  PolicyMode,
  SettingsValidationResponse,
  ValidationResponse,
} from './admission/index.js';
export { KUBEWARDEN_COMPATIBLE_VERSION, parseMetadata, serialiseMetadata } from './metadata/index.js';
export type { ExecutionMode, PolicyMetadata } from './metadata/index.js';
export { createHostCallDispatcher } from './host-calls/host-call-dispatcher.js';
export type { HostCallDispatcherOptions, HostCapability } from './host-calls/host-call-dispatcher.js';
export type {
  HostCallHandler,
  HostCallOutcome,
  HostCallRequest,
  PolicyLogEntry,
  PolicyLogLevel,
  PolicyLogSink,
} from './host-calls/host-call.js';
export {
  compilePolicyModule,
  DEFAULT_MEMORY_LIMIT_MIB,
  isRegoModule,
  METADATA_SECTION,
  readPolicyMetadata,
} from './policy-module.js';
export type { CompileOptions, PolicyModule } from './policy-module.js';
export { PolicyEvaluator } from './policy-evaluator.js';
export type { EvaluatorOptions, LoadedPolicy, PolicyLoadOptions } from './policy-evaluator.js';
export { annotatePolicy, detectWapcProtocolVersion } from './annotate.js';
export type { AnnotateInput, AnnotateResult } from './annotate.js';
export type { ModuleBytes } from './wasm/index.js';
export {
  evaluateGroupExpression,
  MAX_GROUP_EXPRESSION_NESTING,
  parseGroupExpression,
} from './groups/group-expression.js';
export type { GroupExpression } from './groups/group-expression.js';
export { evaluatePolicyGroup } from './groups/policy-group.js';
export type { PolicyGroupOptions } from './groups/policy-group.js';
