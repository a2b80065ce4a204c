import { loadDockerCredentials, loadSources, ModuleDistributionClient, proxiesFromEnv } from '@castellan/oci';
import type { Command } from 'commander';

/**
 * kwctl's flags for reaching registries and web servers (docs/kubewarden-compatibility.md#sources-file,
 * #registry-credentials).
 */
export interface RegistryFlags {
  sourcesPath?: string;
  dockerConfigJsonPath?: string;
}

/** Adds the registry flags to every command that may download or push a module. */
export function addRegistryOptions(command: Command): Command {
  return command
    .option(
      '--sources-path <file>',
      'sources.yml: extra CAs per registry (source_authorities) and insecure registries',
    )
    .option(
      '--docker-config-json-path <dir>',
      'directory holding the Docker config.json with registry credentials (default $DOCKER_CONFIG, else ~/.docker)',
    );
}

/**
 * Runs `work` with a distribution client built from the flags: sources from the file, proxies from
 * the environment, credentials from the Docker config. The client is closed afterwards.
 */
export async function withDistributionClient<T>(
  flags: RegistryFlags,
  work: (client: ModuleDistributionClient) => Promise<T>,
): Promise<T> {
  const client = new ModuleDistributionClient({
    ...(flags.sourcesPath !== undefined && { sources: await loadSources(flags.sourcesPath) }),
    proxies: proxiesFromEnv(process.env),
    credentials: await loadDockerCredentials(flags.dockerConfigJsonPath, {
      onWarning: (message) => process.stderr.write(`castellan: warning: ${message}\n`),
    }),
  });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
