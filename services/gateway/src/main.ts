import { collectDefaultMetrics } from 'prom-client';
import { NatsLink, runService } from '@castellan/service-host';
import { buildGateway } from './app.js';
import { loadGatewayConfig } from './config.js';
import { NatsDispatcher } from './nats-dispatcher.js';
import { RouteTable } from './route-table.js';

await runService({
  name: 'gateway',
  loadConfig: loadGatewayConfig,
  busIdentity: () => ({ role: 'gateway' }),
  async start({ nc, config, logger }) {
    const routes = await RouteTable.start(nc, logger, { replicas: config.jetstreamReplicas });
    const link = new NatsLink(nc);
    const gateway = buildGateway({
      config,
      routes,
      dispatcher: new NatsDispatcher(nc, routes, link),
      logger,
      isReady: () => link.ready(config.natsDownGraceMs) && routes.allPoliciesServed(),
    });
    // Process metrics (heap, resident memory, event-loop lag) beside the gateway's own.
    collectDefaultMetrics({ register: gateway.registry, prefix: 'castellan_gateway_' });
    await gateway.listen();
    return {
      async stop() {
        await gateway.close();
        routes.stop();
      },
    };
  },
});
