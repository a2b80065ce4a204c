import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { subjectToken, messageOf } from '@castellan/proto';
import { DEFAULT_MEMORY_LIMIT_MIB } from '@castellan/runtime';
import { EnvReader } from '@castellan/service-host';
import type { Environment, ServiceConfig } from '@castellan/service-host';
import { EvaluatorError, EvaluatorErrorCode } from './errors.js';

/** Defaults of the evaluator's configuration (documented in services/evaluator/README.md). */
export const DEFAULT_POOL = 'default';
export const DEFAULT_HEARTBEAT_MS = 2_000;
export const DEFAULT_ROLLOUT_GRACE_MS = 5_000;

export interface EvaluatorConfig extends ServiceConfig {
  /** The evaluator pool this replica serves (a PolicyServer in Kubewarden terms). */
  readonly pool: string;
  /** This replica's id in the status KV; unique within the pool. */
  readonly evaluatorId: string;
  /** Worker threads running policies. */
  readonly workers: number;
  /** How often the status is rewritten; readers count the evaluator dead after 3 missed beats. */
  readonly heartbeatMs: number;
  /** How long an old revision keeps being served once every live evaluator reports the new one. */
  readonly rolloutGraceMs: number;
  /** Upper bound of one policy instance's linear memory. */
  readonly memoryLimitMiB: number;
}

/** Where the default evaluator id comes from; tests pass fixed values. */
export interface HostIdentity {
  hostname: string;
  pid: number;
}

/** Reads `CASTELLAN_*` variables once, reporting every problem together. */
export function loadEvaluatorConfig(
  env: Environment,
  host: HostIdentity = { hostname: hostname(), pid: process.pid },
): EvaluatorConfig {
  const reader = new EnvReader(env);
  const token = (name: string, value: string, what: string): string => {
    try {
      return subjectToken(value, what);
    } catch (error) {
      reader.problems.push(`${name}: ${messageOf(error)}`);
      return value;
    }
  };
  const config: EvaluatorConfig = {
    ...reader.serviceConfig(),
    pool: token('CASTELLAN_POOL', reader.string('CASTELLAN_POOL', DEFAULT_POOL), 'pool'),
    evaluatorId: token(
      'CASTELLAN_EVALUATOR_ID',
      reader.string('CASTELLAN_EVALUATOR_ID', defaultEvaluatorId(host)),
      'evaluator id',
    ),
    workers: reader.positiveInteger('CASTELLAN_WORKERS', availableParallelism()),
    heartbeatMs: reader.positiveInteger('CASTELLAN_HEARTBEAT_MS', DEFAULT_HEARTBEAT_MS),
    rolloutGraceMs: reader.positiveInteger('CASTELLAN_ROLLOUT_GRACE_MS', DEFAULT_ROLLOUT_GRACE_MS),
    memoryLimitMiB: reader.positiveInteger('CASTELLAN_MEMORY_LIMIT_MIB', DEFAULT_MEMORY_LIMIT_MIB),
  };
  reader.check('evaluator', (message) => new EvaluatorError(EvaluatorErrorCode.ConfigInvalid, message));
  return Object.freeze(config);
}

/**
 * Host name, pid and a short random suffix (a restarted pod with the same name and pid 1 must not
 * take over its predecessor's status), reduced to what a NATS token allows.
 */
export function defaultEvaluatorId(host: HostIdentity): string {
  const raw = `${host.hostname}-${host.pid}-${randomBytes(3).toString('hex')}`;
  return raw.replace(/[^A-Za-z0-9_-]/g, '-');
}
