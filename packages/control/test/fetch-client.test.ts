// FetchClient while its NATS connection goes down, against a real locked nats-server: a fetch in
// flight and one asked meanwhile fail at once as FetcherUnavailable, for the caller to ask again,
// instead of waiting out the fetch timeout for a reply that cannot come.
import { Subject } from '@castellan/proto';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { ControlErrorCode } from '../src/errors.js';
import { FetchClient } from '../src/fetch-client.js';

const FETCH_TIMEOUT_MS = 60_000;
const AT_ONCE_MS = 2_000;

describe('FetchClient when NATS goes away (real nats-server)', () => {
  let nats: NatsServer;
  let control: NatsConnection;
  let fetcher: NatsConnection;
  const asked: string[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    [control, fetcher] = await Promise.all([
      nats.connect({ role: 'control' }, { maxReconnectAttempts: -1, reconnectTimeWait: 100 }),
      nats.connect({ role: 'fetcher' }),
    ]);
    // A fetcher that takes every request and never answers: the fetch stays in flight.
    fetcher.subscribe(Subject.Fetch, {
      queue: 'fetchers',
      callback: (_, message) => {
        asked.push(message.subject);
      },
    });
    await fetcher.flush();
  });

  afterAll(async () => {
    await Promise.all([control?.close(), fetcher?.close()]);
    await nats?.stop();
  });

  it('fails a fetch in flight, and one asked while down, at once', async () => {
    const client = new FetchClient(control, FETCH_TIMEOUT_MS);
    const inFlight = client
      .fetch({ url: 'registry://registry.example/p:v1' })
      .catch((error: unknown) => error);
    await expect.poll(() => asked.length).toBe(1);
    const killedAt = Date.now();
    await nats.kill();
    expect(await inFlight).toMatchObject({
      code: ControlErrorCode.FetcherUnavailable,
      message: 'no fetcher can answer for registry://registry.example/p:v1: the connection to NATS is down',
    });
    expect(Date.now() - killedAt).toBeLessThan(AT_ONCE_MS);

    const askedAt = Date.now();
    await expect(client.fetch({ url: 'registry://registry.example/q:v1' })).rejects.toMatchObject({
      code: ControlErrorCode.FetcherUnavailable,
    });
    expect(Date.now() - askedAt).toBeLessThan(AT_ONCE_MS);
  });
});
