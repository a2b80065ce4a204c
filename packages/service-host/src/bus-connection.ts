import { readFileSync } from 'node:fs';
import { busIdentityName, inboxPrefix } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import { credsAuthenticator } from '@nats-io/nats-core';
import type { ConnectionOptions } from '@nats-io/nats-core';
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
