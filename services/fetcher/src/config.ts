import { EnvReader } from '@castellan/service-host';
import type { Environment, ServiceConfig } from '@castellan/service-host';
import { FetchError, FetchErrorCode } from './errors.js';

/** Defaults of the fetcher's configuration (documented in services/fetcher/README.md). */
export const DEFAULT_MAX_MODULE_BYTES = 64 * 1024 * 1024;

export interface FetcherConfig extends ServiceConfig {
  /** Kubewarden `sources.yml` used when a request carries no sources of its own. */
  readonly sourcesPath: string | undefined;
  /** Directory holding the Docker `config.json` with registry credentials. */
  readonly dockerConfigDir: string | undefined;
  readonly maxModuleBytes: number;
}

/** Reads `CASTELLAN_*` variables once, reporting every problem together. */
export function loadConfig(env: Environment): FetcherConfig {
  const reader = new EnvReader(env);
  const config: FetcherConfig = {
    ...reader.serviceConfig(),
    sourcesPath: reader.optional('CASTELLAN_SOURCES_PATH'),
    dockerConfigDir: reader.optional('CASTELLAN_DOCKER_CONFIG_DIR') ?? reader.optional('DOCKER_CONFIG'),
    maxModuleBytes: reader.positiveInteger('CASTELLAN_MAX_MODULE_BYTES', DEFAULT_MAX_MODULE_BYTES),
  };
  reader.check('fetcher', (message) => new FetchError(FetchErrorCode.ConfigInvalid, message));
  return Object.freeze(config);
}
