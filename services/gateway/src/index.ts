export { DEFAULT_CLOSE_GRACE_MS, buildGateway } from './app.js';
export type { Gateway, GatewayDependencies, GatewayPorts } from './app.js';
export {
  DEFAULT_GATEWAY_ADDRESS,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_MAX_REQUEST_BYTES_IN_FLIGHT,
  DEFAULT_NATS_DOWN_GRACE_MS,
  DEFAULT_READINESS_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
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
