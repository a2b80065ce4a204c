import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { startProcess, waitUntilReady } from './processes.js';
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
