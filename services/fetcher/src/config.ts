import { FetchError, FetchErrorCode } from './errors.js';

/** Defaults of the fetcher's configuration (documented in services/fetcher/README.md). */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_MAX_MODULE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_JETSTREAM_REPLICAS = 1;
export const DEFAULT_LOG_LEVEL = 'info';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface FetcherConfig {
  readonly natsUrl: string;
  /** Kubewarden `sources.yml` used when a request carries no sources of its own. */
  readonly sourcesPath: string | undefined;
  /** Directory holding the Docker `config.json` with registry credentials. */
  readonly dockerConfigDir: string | undefined;
  readonly maxModuleBytes: number;
  /** Replicas of the buckets when the fetcher creates them (3 in production). */
  readonly jetstreamReplicas: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

/** Reads `CASTELLAN_*` variables once, reporting every problem together. */
export function loadConfig(env: Record<string, string | undefined>): FetcherConfig {
  const problems: string[] = [];
  const positiveInteger = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) {
      problems.push(`${name} must be a positive integer (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const logLevel = env.CASTELLAN_LOG_LEVEL || DEFAULT_LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`CASTELLAN_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  const config: FetcherConfig = {
    natsUrl: env.CASTELLAN_NATS_URL || DEFAULT_NATS_URL,
    sourcesPath: env.CASTELLAN_SOURCES_PATH || undefined,
    dockerConfigDir: env.CASTELLAN_DOCKER_CONFIG_DIR || env.DOCKER_CONFIG || undefined,
    maxModuleBytes: positiveInteger('CASTELLAN_MAX_MODULE_BYTES', DEFAULT_MAX_MODULE_BYTES),
    jetstreamReplicas: positiveInteger('CASTELLAN_JETSTREAM_REPLICAS', DEFAULT_JETSTREAM_REPLICAS),
    logLevel: logLevel as FetcherConfig['logLevel'],
  };
  if (problems.length > 0) {
    throw new FetchError(
      FetchErrorCode.ConfigInvalid,
      `invalid fetcher configuration:\n  - ${problems.join('\n  - ')}`,
    );
  }
  return Object.freeze(config);
}
