import { isAbsolute } from 'node:path';
import { networkProblem } from '@castellan/oci';
import { EnvReader } from '@castellan/service-host';
import type { Environment, ServiceConfig } from '@castellan/service-host';
import { FetchError, FetchErrorCode } from './errors.js';

/** Defaults of the fetcher's configuration (documented in services/fetcher/README.md). */
export const DEFAULT_MAX_MODULE_BYTES = 64 * 1024 * 1024;

export interface FetcherConfig extends ServiceConfig {
  /** Kubewarden `sources.yml`: insecure hosts and extra CAs, for every fetch (requests carry none). */
  readonly sourcesPath: string | undefined;
  /** Directory holding the Docker `config.json` with registry credentials. */
  readonly dockerConfigDir: string | undefined;
  readonly maxModuleBytes: number;
  /** Absolute directories `file://` modules may be read from; none: `file://` is refused. */
  readonly fileRoots: readonly string[];
  /** CIDR networks reached although loopback, link-local, private or unspecified; none by default. */
  readonly allowedNetworks: readonly string[];
}

/** Reads `CASTELLAN_*` variables once, reporting every problem together. */
export function loadConfig(env: Environment): FetcherConfig {
  const reader = new EnvReader(env);
  const config: FetcherConfig = {
    ...reader.serviceConfig(),
    sourcesPath: reader.optional('CASTELLAN_SOURCES_PATH'),
    dockerConfigDir: reader.optional('CASTELLAN_DOCKER_CONFIG_DIR') ?? reader.optional('DOCKER_CONFIG'),
    maxModuleBytes: reader.positiveInteger('CASTELLAN_MAX_MODULE_BYTES', DEFAULT_MAX_MODULE_BYTES),
    fileRoots: list(reader, 'CASTELLAN_FETCHER_FILE_ROOTS', (path) =>
      isAbsolute(path) ? undefined : `"${path}" is not an absolute directory`,
    ),
    allowedNetworks: list(reader, 'CASTELLAN_FETCHER_ALLOWED_NETWORKS', networkProblem),
  };
  reader.check('fetcher', (message) => new FetchError(FetchErrorCode.ConfigInvalid, message));
  return Object.freeze(config);
}

/** A comma-separated list, each entry checked by `problem`; empty when unset. */
function list(reader: EnvReader, name: string, problem: (entry: string) => string | undefined): string[] {
  const entries = (reader.optional(name) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const why = problem(entry);
    if (why !== undefined) reader.problems.push(`${name}: ${why}`);
  }
  return entries;
}
