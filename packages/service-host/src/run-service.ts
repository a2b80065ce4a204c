import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { BusIdentity } from '@castellan/proto';
import { busConnectionOptions, connectToBus } from './bus-connection.js';
import { onParentGone } from './parent-watch.js';
import type { Environment, ServiceConfig } from './env-reader.js';

/** A running service, as its `app.ts` builds it. */
export interface StartedService {
  /** Stops taking work and finishes what is in flight. */
  stop(): Promise<void>;
}

export interface ServiceDefinition<C extends ServiceConfig> {
  /** `gateway`, `evaluator`…: the logger's and the NATS connection's name. */
  name: string;
  loadConfig(env: Environment): C;
  /** Who the service is on the bus: its credentials must be of this identity. */
  busIdentity(config: C): BusIdentity;
  start(deps: { nc: NatsConnection; config: C; logger: Logger }): Promise<StartedService>;
}

/**
 * Set to `true` by a parent that holds the write end of a pipe on the service's stdin (`castellan
 * up`): the service stops when that pipe closes, which the kernel does when the parent dies, even
 * by kill -9. Off by default: on a terminal or /dev/null stdin it would mean nothing.
 */
const EXIT_WITH_PARENT_VARIABLE = 'CASTELLAN_EXIT_WITH_PARENT';
/** A service whose parent died stops as on SIGTERM, but exits after this even if NATS went too. */
const PARENT_GONE_GRACE_MS = 5_000;

/**
 * The shared composition root of every service's `main.ts`: configuration from the environment
 * (all problems printed, exit 2), pino JSON logs, a NATS connection that waits for the servers
 * at start and reconnects forever, and SIGTERM/SIGINT → stop → drain → exit; with
 * `CASTELLAN_EXIT_WITH_PARENT=true`, the end of the parent's pipe on stdin too.
 */
export async function runService<C extends ServiceConfig>(definition: ServiceDefinition<C>): Promise<void> {
  // Watched from the start: a parent that dies while NATS is still awaited must not leave us behind.
  let parentGone: () => void = () => process.exit(1);
  if (process.env[EXIT_WITH_PARENT_VARIABLE] === 'true') onParentGone(() => parentGone());
  let config: C;
  try {
    config = definition.loadConfig(process.env);
  } catch (error) {
    process.stderr.write(`castellan-${definition.name}: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.logLevel, base: { service: `castellan-${definition.name}` } });
  const nc = await connectToBus(
    {
      ...busConnectionOptions(config, definition.busIdentity(config)),
      // Async stack traces make every request allocate two errors up front: ~12% of the gateway's
      // CPU in profiles.
      noAsyncTraces: true,
    },
    (reason, retryInMs) =>
      logger.warn({ servers: config.natsUrl, reason, retryInMs }, 'cannot connect to NATS; retrying'),
  );
  void logConnectionChanges(nc, logger);

  let service: StartedService;
  try {
    service = await definition.start({ nc, config, logger });
  } catch (error) {
    logger.fatal({ err: error }, `${definition.name} could not start`);
    await nc.close();
    process.exit(1);
  }

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing the work in flight');
    let code = 0;
    try {
      await service.stop();
      await nc.drain();
    } catch (error) {
      logger.error({ err: error }, 'unclean stop');
      code = 1;
    }
    process.exit(code);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  parentGone = () => {
    setTimeout(() => process.exit(1), PARENT_GONE_GRACE_MS).unref();
    void stop('parent gone');
  };
}

async function logConnectionChanges(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect' || status.type === 'reconnect') {
      logger.warn({ nats: status.type, server: status.server }, 'NATS connection changed');
    }
  }
}
