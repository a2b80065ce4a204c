export { ControlError, ControlErrorCode } from './errors.js';
export { DEFAULT_FAILURE_POLICY, MAX_WEBHOOK_TIMEOUT_SECONDS, desiredPolicyGroup } from './desired-policy.js';
export type { DesiredGroupMember, DesiredPolicy, DesiredPolicyGroup } from './desired-policy.js';
export { parsePoliciesFile } from './policies-file.js';
export { DEFAULT_FETCH_TIMEOUT_MS, FetchClient, FetchFailure } from './fetch-client.js';
export { PolicyPublisher } from './policy-publisher.js';
export type { PublishOutcome } from './policy-publisher.js';
export { EvaluatorDirectory } from './evaluator-directory.js';
export type { EvaluatorDirectoryOptions, RevisionReach } from './evaluator-directory.js';
