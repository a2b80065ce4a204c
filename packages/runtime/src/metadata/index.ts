export {
  EXECUTION_MODES,
  KUBEWARDEN_COMPATIBLE_VERSION,
  POLICY_TYPES,
  PROTOCOL_VERSIONS,
  checkMinimumVersion,
  parseMetadata,
  serialiseMetadata,
} from './metadata.js';
export type {
  ContextAwareResource,
  ExecutionMode,
  PolicyMetadata,
  PolicyType,
  ProtocolVersion,
} from './metadata.js';
export { RULE_OPERATIONS } from './webhook-rules.js';
export type { PolicyRule, RuleOperation } from './webhook-rules.js';
