export { PROTO_VERSION, FieldReader } from './codec.js';
export { sha256Hex } from './digest.js';
export type { MessageFields } from './codec.js';
export { CastellanError, messageOf, ProtoError, ProtoErrorCode, toWireError } from './errors.js';
export type { WireError } from './errors.js';
export {
  Bucket,
  EVALUATION_SUBJECTS,
  QueueGroup,
  Subject,
  evaluationSubject,
  evaluatorKey,
  moduleIndexKey,
  policyKey,
  poolEvaluationSubjects,
  poolKeyFilter,
  poolQueueGroup,
  subjectToken,
} from './names.js';
export { decodeFetchReply, decodeFetchRequest, encodeFetchReply, encodeFetchRequest } from './fetch.js';
export type { FetchReply, FetchRequest, FetchedModule } from './fetch.js';
export {
  DEFAULT_POLICY_TIMEOUT_SECONDS,
  EXECUTION_MODES,
  FAILURE_POLICIES,
  GROUP_MEMBER_NAME_PATTERN,
  POLICY_MODES,
  decodePolicyConfig,
  encodePolicyConfig,
} from './policy-config.js';
export type {
  ContextAwareResource,
  ExecutionModeName,
  FailurePolicy,
  GroupMemberConfig,
  PolicyConfig,
  PolicyGroupConfig,
  PolicyMode,
} from './policy-config.js';
export {
  EVALUATION_ORIGINS,
  decodeEvaluationReply,
  decodeEvaluationRequest,
  encodeEvaluationReply,
  encodeEvaluationRequest,
} from './evaluation.js';
export type { EvaluationOrigin, EvaluationReply, EvaluationRequest } from './evaluation.js';
export {
  decodeEvaluatorStatus,
  encodeEvaluatorStatus,
  heartbeatFresh,
  MISSED_HEARTBEATS_BEFORE_DEAD,
  statusSeenAt,
} from './evaluator-status.js';
export type { EvaluatorStatus, PolicyLoadFailure } from './evaluator-status.js';
export { BUS_ROLES, busIdentityName, inboxPrefix } from './bus-identity.js';
export type { BusIdentity, BusRole } from './bus-identity.js';
