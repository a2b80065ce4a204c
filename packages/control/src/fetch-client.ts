import { decodeFetchReply, encodeFetchRequest, messageOf, Subject } from '@castellan/proto';
import type { FetchedModule, FetchRequest, WireError } from '@castellan/proto';
import { NatsLink } from '@castellan/service-host';
import { RequestError } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/nats-core';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControlError, ControlErrorCode } from './errors.js';

/** A cold pull of a 20 MB module from a slow registry takes a while; the fetcher bounds its retries. */
export const DEFAULT_FETCH_TIMEOUT_MS = 120_000;
/** How long to wait before asking again when no fetcher is subscribed. */
const NO_RESPONDERS_PAUSE_MS = 250;

/** A fetch the fetcher answered with an error: the error's own code and message. */
export class FetchFailure extends Error {
  override readonly name = 'FetchFailure';
  readonly code: string;

  constructor(error: WireError) {
    super(error.message);
    this.code = error.code;
  }
}

/** Asks the fetchers (`Subject.Fetch`) to put a module in the module store. */
export class FetchClient {
  private readonly link: NatsLink;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = DEFAULT_FETCH_TIMEOUT_MS,
  ) {
    this.link = new NatsLink(nc);
  }

  /**
   * Fetches through whichever fetcher answers. While none is subscribed (fetchers starting or
   * restarting) the request is repeated until the timeout. While the connection is down, or once
   * it goes down, the fetch fails at once as `FetcherUnavailable`, for the caller to ask again:
   * the reply to a request sent before a reconnect never comes, and waiting for it would take the
   * whole timeout (minutes, for slow registries).
   */
  async fetch(request: FetchRequest): Promise<FetchedModule> {
    const deadline = Date.now() + this.timeoutMs;
    let reply;
    for (;;) {
      try {
        const timeout = Math.max(1, deadline - Date.now());
        reply = await this.link.whileLinked(() =>
          this.nc.request(Subject.Fetch, encodeFetchRequest(request), { timeout }),
        );
        break;
      } catch (error) {
        const noFetcher = error instanceof RequestError && error.isNoResponders();
        if (noFetcher && Date.now() + NO_RESPONDERS_PAUSE_MS < deadline) {
          await sleep(NO_RESPONDERS_PAUSE_MS);
          continue;
        }
        const reason = messageOf(error);
        throw new ControlError(
          ControlErrorCode.FetcherUnavailable,
          `no fetcher answered for ${request.url} (${reason}); is a fetcher running on this NATS?`,
          { cause: error },
        );
      }
    }
    if (reply === 'lost') {
      throw new ControlError(
        ControlErrorCode.FetcherUnavailable,
        `no fetcher can answer for ${request.url}: the connection to NATS is down`,
      );
    }
    const decoded = decodeFetchReply(reply.data);
    if (!decoded.ok) throw new FetchFailure(decoded.error);
    return decoded.module;
  }
}
