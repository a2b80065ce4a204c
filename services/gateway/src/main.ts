import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { buildGateway } from './app.js';
import { loadGatewayConfig } from './config.js';
import { NatsDispatcher } from './nats-dispatcher.js';
import { RouteTable } from './route-table.js';

const config = loadGatewayConfig(process.env);
const logger = pino({ name: 'castellan-gateway', level: config.logLevel });

const nc = await connect({
  servers: config.natsUrl,
  name: 'castellan-gateway',
  maxReconnectAttempts: -1,
});
const routes = await RouteTable.start(nc, logger);
const gateway = buildGateway({
  config,
  routes,
  dispatcher: new NatsDispatcher(nc, routes),
  logger,
  isReady: () => !nc.isClosed() && routes.allPoliciesServed(),
});
await gateway.listen();

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping: draining in-flight requests');
  await gateway.close();
  routes.stop();
  await nc.drain();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
