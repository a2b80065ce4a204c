export { buildEvaluator } from './app.js';
export type { EvaluatorDeps, EvaluatorService } from './app.js';
export {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_POOL,
  DEFAULT_ROLLOUT_GRACE_MS,
  defaultEvaluatorId,
  loadEvaluatorConfig,
} from './config.js';
export type { EvaluatorConfig, HostIdentity } from './config.js';
export { EvaluatorError, EvaluatorErrorCode } from './errors.js';
export type { ModuleSource } from './module-cache.js';
export { PoolView } from './pool-view.js';
