import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CliError } from '../cli-error.js';
import { findNatsServer } from './nats-binary.js';
import type { SupervisedProcess } from './supervisor.js';
import { hasExited, killGroup, spawnTethered } from './tethered-child.js';

/** Room for the apiserver's 3 MiB requests plus the envelope (the value our deployments use). */
const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;
const STARTUP_TIMEOUT_MS = 10_000;
/** It stops in well under a second, even with JetStream. */
const STOP_GRACE_MS = 5_000;
/** Runs nats-server so that it dies with `castellan up` (see tether.ts). */
const TETHER = fileURLToPath(new URL('./tether.js', import.meta.url));

export interface LocalNats extends SupervisedProcess {
  url: string;
  /** The services were given this port: a restarted server must listen on it again. */
  port: number;
}

/**
 * A `nats-server -js` on loopback, on `port` or else a free port, its JetStream store kept in `dir`
 * so modules fetched by one `castellan up` are still there the next time (and after a restart),
 * locked with `lockedConfig` (TLS and the credentials of the bus authority only).
 */
export async function startLocalNats(dir: string, lockedConfig: string, port?: number): Promise<LocalNats> {
  const binary = await findNatsServer();
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) if (name.endsWith('.ports')) await rm(join(dir, name));
  const configPath = join(dir, 'nats.conf');
  await writeFile(
    configPath,
    [
      `listen: "127.0.0.1:${port ?? -1}"`,
      `max_payload: ${MAX_PAYLOAD_BYTES}`,
      `ports_file_dir: "${dir}"`,
      `jetstream { store_dir: "${join(dir, 'jetstream')}" }`,
      lockedConfig,
    ].join('\n'),
  );
  // Its own process group, so Ctrl-C does not stop NATS before the services have drained.
  const tethered = spawnTethered(process.execPath, [TETHER, binary, '-c', configPath], {
    stdout: 'ignore',
  });
  const { child, exited } = tethered;
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4096)));

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new CliError(`nats-server exited at start:\n${output}`);
    const portsFile = (await readdir(dir)).find((name) => name.endsWith('.ports'));
    if (portsFile && output.includes('Server is ready')) {
      const ports = JSON.parse(await readFile(join(dir, portsFile), 'utf8')) as { nats?: string[] };
      const url = ports.nats?.[0];
      if (url) {
        return {
          url,
          port: Number(new URL(url).port),
          exited,
          stop: (graceMs = STOP_GRACE_MS) => tethered.stop(graceMs),
        };
      }
    }
    await sleep(25);
  }
  killGroup(child);
  throw new CliError(`nats-server did not start within ${STARTUP_TIMEOUT_MS / 1000} s:\n${output}`);
}
