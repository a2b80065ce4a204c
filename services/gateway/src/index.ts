export { DEFAULT_CLOSE_GRACE_MS, buildGateway } from './app.js';
export type { Gateway, GatewayDependencies, GatewayPorts } from './app.js';
export {
  DEFAULT_GATEWAY_ADDRESS,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_READINESS_PORT,
  loadGatewayConfig,
} from './config.js';
export type { GatewayConfig } from './config.js';
export type {
  EvaluationCall,
  EvaluationDispatcher,
  EvaluationOrigin,
  EvaluationOutcome,
  FailurePolicy,
  PolicyMode,
  PolicyRoute,
  PolicyRoutes,
} from './dispatch.js';
export { GatewayError, GatewayErrorCode } from './errors.js';
export { MAX_ADMISSION_BODY_BYTES } from './admission-body.js';
export { evaluationWaitMs } from './evaluation-timeout.js';
