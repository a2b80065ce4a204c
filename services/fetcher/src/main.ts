import { loadDockerCredentials, loadSources, proxiesFromEnv } from '@castellan/oci';
import { runService } from '@castellan/service-host';
import { buildFetcher } from './app.js';
import { loadConfig } from './config.js';
import { FileRoots } from './file-roots.js';
import { OciModuleSource } from './oci-module-source.js';

await runService({
  name: 'fetcher',
  loadConfig,
  busIdentity: () => ({ role: 'fetcher' }),
  async start({ nc, config, logger }) {
    const source = new OciModuleSource(
      {
        ...(config.sourcesPath ? { sources: await loadSources(config.sourcesPath) } : {}),
        proxies: proxiesFromEnv(process.env),
        credentials: await loadDockerCredentials(config.dockerConfigDir, {
          onWarning: (message) => logger.warn(message),
        }),
        maxModuleBytes: config.maxModuleBytes,
        allowedNetworks: config.allowedNetworks,
      },
      await FileRoots.open(config.fileRoots),
    );
    const fetcher = await buildFetcher({ nc, source, logger, jetstreamReplicas: config.jetstreamReplicas });
    return {
      async stop() {
        await fetcher.stop();
        await source.close();
      },
    };
  },
});
