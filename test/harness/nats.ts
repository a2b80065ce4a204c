import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { prepareLocalBus, routeTlsConfig } from '@castellan/bus-auth';
import type { LocalBus } from '@castellan/bus-auth';
import { Bucket } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import { busAccessEnv, busConnectionOptions } from '@castellan/service-host';
import { Kvm } from '@nats-io/kv';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort, startProcess, waitUntilReady } from './processes.js';
import type { ServerProcess } from './processes.js';

/** The apiserver's 3 MiB request limit plus the envelope fits; our deployments use the same value. */
const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

/**
 * A locked bus as Castellan runs it: TLS only, and only credentials of a Castellan identity
 * (gateway, evaluator of a pool, fetcher, control), each held to its permissions by nats-server.
 */
export interface LockedBus {
  /** The CA that signed the servers' certificates. */
  readonly caFile: string;
  /** The signing keys (`authority.json`), as an operator hands them to the reconciler. */
  readonly authorityFile: string;
  /** The `.creds` file of an identity. */
  credentials(identity: BusIdentity): Promise<string>;
  /** `CASTELLAN_NATS_URL`, `CASTELLAN_NATS_CREDS` and `CASTELLAN_NATS_CA` of a service process. */
  serviceEnv(identity: BusIdentity): Promise<Record<string, string>>;
  /** A connection as `identity` (TLS, its credentials, its inbox prefix). */
  connect(identity: BusIdentity, options?: ConnectionOptions): Promise<NatsConnection>;
}

export interface NatsServer extends LockedBus {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** JetStream store directory (kept across `restart`). */
  readonly storeDir: string;
  /** Stops the process; the store directory is kept so `restart` finds the streams again. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and store. */
  restart(): Promise<void>;
  /** Stops the server and deletes its files. */
  stop(): Promise<void>;
}

/** A real `nats-server -js`, locked, on a free loopback port with a temporary store. */
export async function startNatsServer(): Promise<NatsServer> {
  const binary = await requireBinary('nats-server');
  const dir = await mkdtemp(join(tmpdir(), 'castellan-nats-'));
  const storeDir = join(dir, 'store');
  const configPath = join(dir, 'nats.conf');
  const bus = await prepareLocalBus(join(dir, 'bus'));

  let port = -1;
  const writeConfig = () =>
    writeFile(
      configPath,
      [
        `listen: "127.0.0.1:${port}"`,
        `max_payload: ${MAX_PAYLOAD_BYTES}`,
        `ports_file_dir: "${dir}"`,
        `jetstream { store_dir: "${storeDir}" }`,
        bus.serverConfig,
      ].join('\n'),
    );

  let server: ServerProcess | undefined;
  const launch = async (): Promise<void> => {
    await writeConfig();
    const started = startProcess(binary, ['-c', configPath]);
    server = started;
    await waitUntilReady(started, 'nats-server', async () => {
      const portsFile = (await readdir(dir)).find((name) => name.endsWith('.ports'));
      if (!portsFile) return false;
      const ports = JSON.parse(await readFile(join(dir, portsFile), 'utf8')) as { nats?: string[] };
      const announced = ports.nats?.[0];
      if (!announced) return false;
      port = Number(new URL(announced).port);
      return /Server is ready/.test(started.output());
    });
  };
  await launch();

  return {
    ...lockedBus(bus, () => `nats://127.0.0.1:${port}`),
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    kill: async () => {
      await server?.stop();
      const files = await readdir(dir);
      await Promise.all(files.filter((f) => f.endsWith('.ports')).map((f) => rm(join(dir, f))));
    },
    restart: launch,
    stop: async () => {
      await server?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface NatsCluster extends LockedBus {
  /** Client URLs of every node, comma-separated, as services take them. */
  readonly urls: string;
  readonly nodes: NatsClusterNode[];
  /** Resolves once JetStream can place R3 streams (a fresh cluster needs a few seconds). */
  waitForJetStream(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface NatsClusterNode {
  readonly name: string;
  readonly url: string;
  /** The client connections the node holds now, from its monitoring endpoint (`/connz`). */
  clients(): Promise<NatsClient[]>;
  /** SIGKILL: the node is gone, as in a machine loss. */
  kill(): Promise<void>;
}

/** A client connection as nats-server's `/connz` reports it. */
export interface NatsClient {
  /** The connection name: `castellan-gateway`, `castellan-evaluator-<pool>`, … */
  readonly name: string;
  /** Messages the client published through this node. */
  readonly inMsgs: number;
}

/** A JetStream cluster of `size` real nats-server processes on loopback, routes between all. */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const binary = await requireBinary('nats-server');
  const dir = await mkdtemp(join(tmpdir(), 'castellan-nats-cluster-'));
  const bus = await prepareLocalBus(join(dir, 'bus'));
  const clientPorts = await Promise.all(Array.from({ length: size }, () => freeLoopbackPort()));
  const routePorts = await Promise.all(Array.from({ length: size }, () => freeLoopbackPort()));
  // Monitoring (read-only, unauthenticated) on loopback, for tests that must know which node holds
  // which service's connection; no product configuration enables it.
  const monitorPorts = await Promise.all(Array.from({ length: size }, () => freeLoopbackPort()));
  const routes = routePorts.map((port) => `"nats-route://127.0.0.1:${port}"`).join(', ');
  const nodes: { name: string; url: string; monitorPort: number; server: ServerProcess }[] = [];
  for (let index = 0; index < size; index++) {
    const name = `n${index + 1}`;
    const configPath = join(dir, `${name}.conf`);
    await writeFile(
      configPath,
      [
        `server_name: ${name}`,
        `listen: "127.0.0.1:${clientPorts[index]}"`,
        `http: "127.0.0.1:${monitorPorts[index]}"`,
        `max_payload: ${MAX_PAYLOAD_BYTES}`,
        `jetstream { store_dir: "${join(dir, name)}" }`,
        `cluster { name: castellan, listen: "127.0.0.1:${routePorts[index]}", routes: [${routes}]\n${routeTlsConfig(bus.serverTls)}\n}`,
        bus.serverConfig,
      ].join('\n'),
    );
    nodes.push({
      name,
      url: `nats://127.0.0.1:${clientPorts[index]}`,
      monitorPort: monitorPorts[index] ?? 0,
      server: startProcess(binary, ['-c', configPath]),
    });
  }
  await Promise.all(
    nodes.map(({ server, name }) =>
      waitUntilReady(server, `nats-server ${name}`, () =>
        Promise.resolve(/Server is ready/.test(server.output())),
      ),
    ),
  );
  const urls = nodes.map((node) => node.url).join(',');
  const access = lockedBus(bus, () => urls);
  return {
    ...access,
    urls,
    nodes: nodes.map(({ name, url, monitorPort, server }) => ({
      name,
      url,
      clients: () => connz(monitorPort),
      kill: () => server.kill(),
    })),
    async waitForJetStream(timeoutMs = 20_000) {
      const nc = await access.connect({ role: 'control' });
      const deadline = Date.now() + timeoutMs;
      try {
        for (;;) {
          try {
            // The control plane's first act on a cluster: creating the policies bucket, R3.
            await new Kvm(nc).create(Bucket.Policies, { replicas: 3 });
            return;
          } catch (error) {
            if (Date.now() > deadline) throw error;
            await sleep(250);
          }
        }
      } finally {
        await nc.close();
      }
    },
    async stop() {
      await Promise.all(nodes.map(({ server }) => server.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function connz(monitorPort: number): Promise<NatsClient[]> {
  const answer = await fetch(`http://127.0.0.1:${monitorPort}/connz?limit=1024`);
  if (!answer.ok) throw new Error(`/connz of the node on ${monitorPort}: HTTP ${answer.status}`);
  const { connections } = (await answer.json()) as {
    connections?: { name?: string; in_msgs: number }[];
  };
  return (connections ?? []).map((c) => ({ name: c.name ?? '', inMsgs: c.in_msgs }));
}

function lockedBus(bus: LocalBus, url: () => string): LockedBus {
  const access = async (identity: BusIdentity) => ({
    natsUrl: url(),
    natsCredentialsFile: await bus.credentialsFile(identity),
    natsCaFile: bus.caFile,
  });
  return {
    caFile: bus.caFile,
    authorityFile: bus.authorityFile,
    credentials: (identity) => bus.credentialsFile(identity),
    serviceEnv: async (identity) => busAccessEnv(await access(identity)),
    async connect(identity, options = {}) {
      return connect({ ...busConnectionOptions(await access(identity), identity), ...options });
    },
  };
}
