import { readFileSync } from 'node:fs';
import { busIdentityName, inboxPrefix, messageOf } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import { setTimeout as sleep } from 'node:timers/promises';
import { credsAuthenticator } from '@nats-io/nats-core';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { Backoff } from './backoff.js';
import { natsServers } from './env-reader.js';
import type { ServiceConfig } from './env-reader.js';

/** Where the bus is and how to prove who is connecting. */
export type BusAccess = Pick<ServiceConfig, 'natsUrl' | 'natsCredentialsFile' | 'natsCaFile'>;

/**
 * Connection options for `identity`: its credentials (read again at every reconnect, so rotated
 * files take effect without a restart), TLS verified against the bus CA, and replies under the
 * identity's own inbox prefix — the only reply subjects its permissions let it subscribe to.
 */
export function busConnectionOptions(access: BusAccess, identity: BusIdentity): ConnectionOptions {
  return {
    servers: natsServers(access.natsUrl),
    name: `castellan-${busIdentityName(identity)}`,
    authenticator: credsAuthenticator(() => readFileSync(access.natsCredentialsFile)),
    tls: { caFile: access.natsCaFile },
    inboxPrefix: inboxPrefix(identity),
  };
}

/** The environment that gives a service process `access` (what `EnvReader.serviceConfig` reads). */
export function busAccessEnv(access: BusAccess): Record<string, string> {
  return {
    CASTELLAN_NATS_URL: access.natsUrl,
    CASTELLAN_NATS_CREDS: access.natsCredentialsFile,
    CASTELLAN_NATS_CA: access.natsCaFile,
  };
}

/**
 * The first connection, asked for again (with backoff) until a server takes it, each failure
 * reported with its reason: a server that is down, refuses the credentials, or fails TLS is
 * said so, where nats.js's own wait at start is silent. Once connected, the connection
 * reconnects forever on its own.
 */
export async function connectToBus(
  options: ConnectionOptions,
  onFailure: (reason: string, retryInMs: number) => void,
): Promise<NatsConnection> {
  const backoff = new Backoff();
  for (;;) {
    try {
      return await connect({ ...options, maxReconnectAttempts: -1 });
    } catch (error) {
      const delay = backoff.next();
      onFailure(messageOf(error), delay);
      await sleep(delay);
    }
  }
}
