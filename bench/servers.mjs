// Local servers for the benchmarks, started like the integration tests start theirs (the test harness
// is TypeScript and cannot be imported here). Loopback only; every server stores into a temp dir that
// stop() removes.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const NATS_SERVER = '/usr/sbin/nats-server';
const DOCKER_REGISTRY = '/usr/bin/docker-registry';
/** The apiserver's 3 MiB request limit plus the envelope; our deployments use the same value. */
const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;
const STARTUP_TIMEOUT_MS = 10_000;

/** A `nats-server` with JetStream on a port it picks itself: `{ url, pid, stop() }`. */
export async function startNats() {
  const dir = await mkdtemp(join(tmpdir(), 'castellan-bench-nats-'));
  const configPath = join(dir, 'nats.conf');
  await writeFile(
    configPath,
    [
      'listen: "127.0.0.1:-1"',
      `max_payload: ${MAX_PAYLOAD_BYTES}`,
      `ports_file_dir: "${dir}"`,
      `jetstream { store_dir: "${join(dir, 'store')}" }`,
    ].join('\n'),
  );
  const server = startProcess(NATS_SERVER, ['-c', configPath], dir);
  let url;
  await server.waitFor('nats-server', async () => {
    const portsFile = (await readdir(dir)).find((name) => name.endsWith('.ports'));
    if (!portsFile || !server.output().includes('Server is ready')) return false;
    url = JSON.parse(await readFile(join(dir, portsFile), 'utf8')).nats?.[0];
    return url !== undefined;
  });
  return { url, pid: server.pid, stop: server.stop };
}

/** The Debian `docker-registry` over plain HTTP on a free port: `{ host, stop() }`. */
export async function startRegistry() {
  const dir = await mkdtemp(join(tmpdir(), 'castellan-bench-registry-'));
  const host = `127.0.0.1:${await freeLoopbackPort()}`;
  const configPath = join(dir, 'config.yml');
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(join(dir, 'storage'))}`,
      'http:',
      `  addr: ${host}`,
      '  secret: castellan-bench-secret',
      '',
    ].join('\n'),
  );
  const server = startProcess(DOCKER_REGISTRY, ['serve', configPath], dir);
  await server.waitFor('docker-registry', async () => (await status(`http://${host}/v2/`)) === 200);
  return { host, stop: server.stop };
}

/** A loopback port that was free a moment ago. */
export function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function startProcess(command, args, dir) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk) => (output = (output + chunk.toString('utf8')).slice(-8192));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const running = () => child.exitCode === null && child.signalCode === null;
  let stopped;
  const stop = () =>
    (stopped ??= (async () => {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })());
  return {
    pid: child.pid,
    output: () => output,
    stop,
    async waitFor(what, ready) {
      const deadline = Date.now() + STARTUP_TIMEOUT_MS;
      while (Date.now() < deadline) {
        if (!running()) break;
        if (await ready().catch(() => false)) return;
        await sleep(25);
      }
      await stop();
      throw new Error(`${what} did not start:\n${output}`);
    },
  };
}

function status(url) {
  return new Promise((resolve) => {
    httpGet(url, (response) => {
      response.resume();
      resolve(response.statusCode);
    }).on('error', () => resolve(undefined));
  });
}
