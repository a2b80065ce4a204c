import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort, startProcess, waitUntilReady } from './processes.js';
import type { ServerProcess } from './processes.js';

/** The apiserver's 3 MiB request limit plus the envelope fits; our deployments use the same value. */
const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

export interface NatsServer {
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

/** A real `nats-server -js` on a free loopback port with a temporary store. */
export async function startNatsServer(): Promise<NatsServer> {
  const binary = await requireBinary('nats-server');
  const dir = await mkdtemp(join(tmpdir(), 'castellan-nats-'));
  const storeDir = join(dir, 'store');
  const configPath = join(dir, 'nats.conf');

  let port = -1;
  const writeConfig = () =>
    writeFile(
      configPath,
      [
        `listen: "127.0.0.1:${port}"`,
        `max_payload: ${MAX_PAYLOAD_BYTES}`,
        `ports_file_dir: "${dir}"`,
        `jetstream { store_dir: "${storeDir}" }`,
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

export interface NatsCluster {
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
  /** SIGKILL: the node is gone, as in a machine loss. */
  kill(): Promise<void>;
}

/** A JetStream cluster of `size` real nats-server processes on loopback, routes between all. */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const binary = await requireBinary('nats-server');
  const dir = await mkdtemp(join(tmpdir(), 'castellan-nats-cluster-'));
  const clientPorts = await Promise.all(Array.from({ length: size }, () => freeLoopbackPort()));
  const routePorts = await Promise.all(Array.from({ length: size }, () => freeLoopbackPort()));
  const routes = routePorts.map((port) => `"nats-route://127.0.0.1:${port}"`).join(', ');
  const nodes: { name: string; url: string; server: ServerProcess }[] = [];
  for (let index = 0; index < size; index++) {
    const name = `n${index + 1}`;
    const configPath = join(dir, `${name}.conf`);
    await writeFile(
      configPath,
      [
        `server_name: ${name}`,
        `listen: "127.0.0.1:${clientPorts[index]}"`,
        `max_payload: ${MAX_PAYLOAD_BYTES}`,
        `jetstream { store_dir: "${join(dir, name)}" }`,
        `cluster { name: castellan, listen: "127.0.0.1:${routePorts[index]}", routes: [${routes}] }`,
      ].join('\n'),
    );
    nodes.push({
      name,
      url: `nats://127.0.0.1:${clientPorts[index]}`,
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
  return {
    urls,
    nodes: nodes.map(({ name, url, server }) => ({ name, url, kill: () => server.kill() })),
    async waitForJetStream(timeoutMs = 20_000) {
      const nc = await connect({ servers: nodes.map((node) => node.url) });
      const deadline = Date.now() + timeoutMs;
      try {
        for (;;) {
          try {
            const jsm = await jetstreamManager(nc);
            await jsm.streams.add({
              name: 'castellan_probe',
              subjects: ['castellan.probe'],
              num_replicas: 3,
            });
            await jsm.streams.delete('castellan_probe');
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
