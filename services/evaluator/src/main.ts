import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { buildEvaluator } from './app.js';
import { loadEvaluatorConfig } from './config.js';
import { EvaluatorError } from './errors.js';

/** Composition root: configuration from the environment, logger, NATS, signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadEvaluatorConfig(process.env);
  } catch (error) {
    if (!(error instanceof EvaluatorError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.logLevel, base: { service: 'castellan-evaluator' } });
  const nc = await connect({
    servers: config.natsUrl.split(',').map((url) => url.trim()),
    name: `castellan-evaluator-${config.evaluatorId}`,
    // An evaluator is useless without NATS: wait for it at start, reconnect forever after.
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect') {
        logger.warn({ nats: status.type, server: status.server }, 'NATS connection changed');
      }
    }
  })();

  const service = buildEvaluator({ nc, config, logger });
  let exiting = false;
  const shutdown = async (reason: string, code: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    logger.info({ reason }, 'shutting down');
    try {
      await service.stop();
      await nc.drain();
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      code = code || 1;
    }
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));

  try {
    await service.ready;
  } catch (error) {
    logger.fatal({ err: error }, 'evaluator could not start');
    await shutdown('start failed', 1);
  }
}

await main();
