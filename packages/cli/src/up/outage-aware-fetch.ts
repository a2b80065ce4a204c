import { ControlError, ControlErrorCode, FetchClient } from '@castellan/control';
import type { FetchedModule, FetchRequest } from '@castellan/proto';
import { NatsLink } from '@castellan/service-host';
import type { NatsConnection } from '@nats-io/nats-core';

/**
 * A FetchClient that fails a fetch at once when the connection is down or goes down meanwhile,
 * with the code of a fetcher out of reach (which `castellan up` publishes again after a backoff):
 * the reply to a fetch sent before a reconnect never comes, and the fetch would otherwise wait out
 * its timeout (minutes, for slow registries) before anything retried it.
 */
export class OutageAwareFetchClient extends FetchClient {
  private readonly link: NatsLink;

  constructor(nc: NatsConnection) {
    super(nc);
    this.link = new NatsLink(nc);
  }

  override async fetch(request: FetchRequest): Promise<FetchedModule> {
    const fetched = await this.link.whileLinked(() => super.fetch(request));
    if (fetched === 'lost') {
      throw new ControlError(
        ControlErrorCode.FetcherUnavailable,
        `no fetcher can answer for ${request.url}: the connection to NATS is down`,
      );
    }
    return fetched;
  }
}
