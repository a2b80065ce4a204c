import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { subjectToken } from '@castellan/proto';
import { DEFAULT_MEMORY_LIMIT_MIB } from '@castellan/runtime';
import { EvaluatorError, EvaluatorErrorCode, describe } from './errors.js';

/** Defaults of the evaluator's configuration (documented in services/evaluator/README.md). */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_POOL = 'default';
export const DEFAULT_HEARTBEAT_MS = 2_000;
export const DEFAULT_ROLLOUT_GRACE_MS = 5_000;
export const DEFAULT_JETSTREAM_REPLICAS = 1;
export const DEFAULT_LOG_LEVEL = 'info';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface EvaluatorConfig {
  readonly natsUrl: string;
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
  /** Replicas of the buckets when this evaluator creates them (3 in production). */
  readonly jetstreamReplicas: number;
  readonly logLevel: LogLevel;
}

/** Where the default evaluator id comes from; tests pass fixed values. */
export interface HostIdentity {
  hostname: string;
  pid: number;
}

/** Reads `CASTELLAN_*` variables once, reporting every problem together. */
export function loadEvaluatorConfig(
  env: Record<string, string | undefined>,
  host: HostIdentity = { hostname: hostname(), pid: process.pid },
): EvaluatorConfig {
  const problems: string[] = [];
  const positiveInteger = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) {
      problems.push(`${name} must be a positive integer (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const token = (name: string, value: string, what: string): string => {
    try {
      return subjectToken(value, what);
    } catch (error) {
      problems.push(`${name}: ${describe(error)}`);
      return value;
    }
  };

  const logLevel = env.CASTELLAN_LOG_LEVEL || DEFAULT_LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`CASTELLAN_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  const config: EvaluatorConfig = {
    natsUrl: env.CASTELLAN_NATS_URL || DEFAULT_NATS_URL,
    pool: token('CASTELLAN_POOL', env.CASTELLAN_POOL || DEFAULT_POOL, 'pool'),
    evaluatorId: token(
      'CASTELLAN_EVALUATOR_ID',
      env.CASTELLAN_EVALUATOR_ID || defaultEvaluatorId(host),
      'evaluator id',
    ),
    workers: positiveInteger('CASTELLAN_WORKERS', availableParallelism()),
    heartbeatMs: positiveInteger('CASTELLAN_HEARTBEAT_MS', DEFAULT_HEARTBEAT_MS),
    rolloutGraceMs: positiveInteger('CASTELLAN_ROLLOUT_GRACE_MS', DEFAULT_ROLLOUT_GRACE_MS),
    memoryLimitMiB: positiveInteger('CASTELLAN_MEMORY_LIMIT_MIB', DEFAULT_MEMORY_LIMIT_MIB),
    jetstreamReplicas: positiveInteger('CASTELLAN_JETSTREAM_REPLICAS', DEFAULT_JETSTREAM_REPLICAS),
    logLevel: logLevel as LogLevel,
  };
  if (problems.length > 0) {
    throw new EvaluatorError(
      EvaluatorErrorCode.ConfigInvalid,
      `invalid evaluator configuration:\n  - ${problems.join('\n  - ')}`,
    );
  }
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
