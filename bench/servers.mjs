// Local servers for the benchmarks, started like the integration tests start theirs (the test harness
// is TypeScript and cannot be imported here). Loopback only; every server stores into a temp dir that
// stop() removes. NATS is locked as Castellan runs it: TLS, and only credentials of an identity.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { issueBusCredentials, parseBusAuthority, prepareLocalBus } from '@castellan/bus-auth';
import { busIdentityName } from '@castellan/proto';
import { busAccessEnv, busConnectionOptions } from '@castellan/service-host';
import { connect } from '@nats-io/transport-node';

const NATS_SERVER = '/usr/sbin/nats-server';
const DOCKER_REGISTRY = '/usr/bin/docker-registry';
/** The apiserver's 3 MiB request limit plus the envelope; our deployments use the same value. */
const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;
const STARTUP_TIMEOUT_MS = 10_000;

/**
 * What of the bus's lock a bench's nats-server applies: Castellan's bus is `locked` (TLS, and only
 * credentials of an identity, held to its permissions); the others take it apart to see what each
 * half costs, with the same TLS block and the same authority as the locked one.
 */
export const BUS_MODES = {
  open: { tls: false, auth: false },
  tls: { tls: true, auth: false },
  credentials: { tls: false, auth: true },
  locked: { tls: true, auth: true },
};

/**
 * A `nats-server` with JetStream on a port it picks itself, locked as `mode` says (its bus
 * materials made by `prepareLocalBus`, as the test harness makes them): `{ url, pid, stop() }` and
 * the {@link lockedBus} functions.
 */
export async function startNats(mode = 'locked') {
  const { tls, auth } = BUS_MODES[mode];
  const dir = await mkdtemp(join(tmpdir(), 'castellan-bench-nats-'));
  const bus = await prepareLocalBus(join(dir, 'bus'));
  // prepareLocalBus's configuration: the authority's lines, then the `tls` block.
  const tlsAt = bus.serverConfig.indexOf('\ntls ');
  if (tlsAt < 0) throw new Error(`no tls block in the bus configuration:\n${bus.serverConfig}`);
  const configPath = join(dir, 'nats.conf');
  await writeFile(
    configPath,
    [
      'listen: "127.0.0.1:-1"',
      `max_payload: ${MAX_PAYLOAD_BYTES}`,
      `ports_file_dir: "${dir}"`,
      `jetstream { store_dir: "${join(dir, 'store')}" }`,
      ...(auth ? [bus.serverConfig.slice(0, tlsAt)] : []),
      ...(tls ? [bus.serverConfig.slice(tlsAt + 1)] : []),
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
  return { url, pid: server.pid, stop: server.stop, ...lockedBus(url, bus.caFile, bus.credentialsFile) };
}

/**
 * The bus of a running `castellan up`, from its state directory (`<state-dir>/bus`): its CA, and
 * credentials of any identity minted with its authority into `credsDir` (the bench's own files).
 */
export async function castellanUpBus(natsUrl, busDir, credsDir) {
  const authorityPath = join(busDir, 'authority.json');
  const authority = parseBusAuthority(await readFile(authorityPath, 'utf8'), authorityPath);
  await mkdir(credsDir, { recursive: true, mode: 0o700 });
  return lockedBus(natsUrl, join(busDir, 'ca.pem'), async (identity) => {
    const path = join(credsDir, `${busIdentityName(identity)}.creds`);
    await writeFile(path, await issueBusCredentials(authority, identity), { mode: 0o600 });
    return path;
  });
}

/**
 * How to reach a locked bus as an identity: `access(identity)` (URL, credentials file, CA file),
 * `env(identity)` (a service's `CASTELLAN_NATS_*`) and `connect(identity)` (TLS, its credentials,
 * its inbox prefix: what a service's own connection is).
 */
/**
 * A service's connection options on a bus locked as `mode` says: `busConnectionOptions` without
 * the credentials where the server takes none, and without TLS where it speaks none.
 */
export function busClientOptions(mode, access, identity) {
  const { authenticator, tls, ...options } = busConnectionOptions(access, identity);
  return {
    ...options,
    ...(BUS_MODES[mode].auth && { authenticator }),
    ...(BUS_MODES[mode].tls && { tls }),
  };
}

function lockedBus(natsUrl, caFile, credentialsFile) {
  const access = async (identity) => ({
    natsUrl,
    natsCredentialsFile: await credentialsFile(identity),
    natsCaFile: caFile,
  });
  return {
    access,
    env: async (identity) => busAccessEnv(await access(identity)),
    connect: async (identity) => connect(busConnectionOptions(await access(identity), identity)),
  };
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

/** Starts the bench script `script` in `role` (its arguments after it), and resolves once it printed `ready`. */
export async function startRole(script, role, ...args) {
  const child = spawn(process.execPath, [script, role, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('ready')) resolve();
    });
    void exited.then((code) => reject(new Error(`${role} exited with ${code}`)));
  });
  return {
    pid: child.pid,
    output: () => output,
    /** Resolves with its exit code (or signal) when it ends. */
    exited,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      return exited;
    },
  };
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
