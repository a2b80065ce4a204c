import { loadDockerCredentials, loadSources, proxiesFromEnv } from '@castellan/oci';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { buildFetcher } from './app.js';
import { loadConfig } from './config.js';
import { OciModuleSource } from './oci-module-source.js';

const config = loadConfig(process.env);
const logger = pino({ name: 'castellan-fetcher', level: config.logLevel });

const source = new OciModuleSource({
  ...(config.sourcesPath ? { sources: await loadSources(config.sourcesPath) } : {}),
  proxies: proxiesFromEnv(process.env),
  credentials: await loadDockerCredentials(config.dockerConfigDir, {
    onWarning: (message) => logger.warn(message),
  }),
  maxModuleBytes: config.maxModuleBytes,
});
const nc = await connect({ servers: config.natsUrl, name: 'castellan-fetcher', maxReconnectAttempts: -1 });
const fetcher = await buildFetcher({ nc, source, logger, jetstreamReplicas: config.jetstreamReplicas });

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping: answering the fetches in flight');
  await fetcher.stop();
  await source.close();
  await nc.drain();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
