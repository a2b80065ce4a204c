import { messageOf } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import { busConnectionOptions } from '@castellan/service-host';
import type { BusAccess } from '@castellan/service-host';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { CliError } from '../cli-error.js';

const CONTROL: BusIdentity = { role: 'control' };
/** Loopback or a server the user named: one that has not answered by then is not going to. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The connection of `castellan up` itself, as the control identity (it publishes the policies and
 * reads the evaluator statuses). Made before any service starts, so that a server that is down,
 * refuses the credentials or has no JetStream is one line and an exit, not services started on it.
 * Once made, like the services' connections, it outlives any NATS outage: edits must reach the KV
 * after it.
 */
export async function connectControl(
  access: BusAccess,
  given: { fromEnvironment: boolean; serverConfigFile: string },
): Promise<NatsConnection> {
  const { fromEnvironment, serverConfigFile } = given;
  const server = fromEnvironment ? `NATS_URL ${access.natsUrl}` : `the local nats-server ${access.natsUrl}`;
  const advice = fromEnvironment ? ', or unset NATS_URL and castellan up runs its own' : '';
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...busConnectionOptions(access, CONTROL),
      maxReconnectAttempts: -1,
      timeout: CONNECT_TIMEOUT_MS,
    });
  } catch (error) {
    const reason = messageOf(error);
    // There, but not serving this bus: its TLS and accounts come from the state dir.
    const strangerToBus = /authori[sz]ation|tls|certificate/i.test(reason);
    const remedy = strangerToBus
      ? `: the server must include ${serverConfigFile}${advice}`
      : fromEnvironment
        ? `: start it${advice}`
        : '';
    throw new CliError(`cannot connect to ${server} (${reason})${remedy}`);
  }
  // Told by the server in its INFO at once, where a JetStream request would wait for a timeout.
  if (nc.info?.jetstream !== true) {
    await nc.close();
    throw new CliError(
      `${server} has no JetStream, which holds the policies and modules: start it with -js${advice}`,
    );
  }
  return nc;
}
