import { ModuleStore } from '@castellan/module-store';
import {
  decodeFetchRequest,
  encodeFetchReply,
  ProtoError,
  QueueGroup,
  Subject,
  toWireError,
} from '@castellan/proto';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { FetchErrorCode } from './errors.js';
import { ModuleFetcher } from './module-fetcher.js';
import { ModuleIndex } from './module-index.js';
import type { ModuleSource } from './module-source.js';

export interface FetcherDeps {
  nc: NatsConnection;
  source: ModuleSource;
  logger: Logger;
  /** Replicas of the buckets when this fetcher creates them. */
  jetstreamReplicas: number;
}

export interface FetcherService {
  readonly fetcher: ModuleFetcher;
  /** Stops taking requests and waits for the ones in flight to be answered. */
  stop(): Promise<void>;
}

/** Answers fetch requests on `Subject.Fetch` as one member of the `fetchers` queue group. */
export async function buildFetcher({
  nc,
  source,
  logger,
  jetstreamReplicas,
}: FetcherDeps): Promise<FetcherService> {
  const store = await ModuleStore.open(nc, { replicas: jetstreamReplicas });
  const index = await ModuleIndex.open(nc, jetstreamReplicas);
  const fetcher = new ModuleFetcher({ source, store, index, logger });
  const inFlight = new Set<Promise<void>>();

  const answer = async (msg: Msg): Promise<void> => {
    let url: string | undefined;
    try {
      const request = decodeFetchRequest(msg.data);
      url = request.url;
      const module = await fetcher.fetch(request);
      msg.respond(encodeFetchReply({ ok: true, module }));
    } catch (error) {
      const wire = toWireError(error, FetchErrorCode.Failed, 'unexpected fetcher failure');
      if (!(error instanceof ProtoError)) logger.warn({ url, code: wire.code, err: error }, 'fetch failed');
      msg.respond(encodeFetchReply({ ok: false, error: wire }));
    }
  };

  const subscription: Subscription = nc.subscribe(Subject.Fetch, {
    queue: QueueGroup.Fetchers,
    callback: (error, msg) => {
      if (error) {
        logger.error({ err: error }, 'fetch subscription failed');
        return;
      }
      const answered = answer(msg).finally(() => inFlight.delete(answered));
      inFlight.add(answered);
    },
  });
  // The server has the subscription once it answers a ping: "ready" means requests reach us.
  await nc.flush();
  logger.info({ subject: Subject.Fetch, queue: QueueGroup.Fetchers }, 'fetcher ready');

  return {
    fetcher,
    async stop() {
      await subscription.drain();
      await Promise.all(inFlight);
    },
  };
}
