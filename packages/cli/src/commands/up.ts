import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PolicyPublisher } from '@castellan/control';
import type { PublishOutcome } from '@castellan/control';
import { prepareLocalBus } from '@castellan/bus-auth';
import { messageOf } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import { busAccessEnv, busConnectionOptions } from '@castellan/service-host';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { ensureGatewayTls } from '../up/gateway-tls.js';
import { formatDelay } from '../up/backoff.js';
import { startLocalNats } from '../up/local-nats.js';
import { formatServiceLine } from '../up/log-lines.js';
import { OutageAwareFetchClient } from '../up/outage-aware-fetch.js';
import { syncPoliciesFile } from '../up/policies-sync.js';
import type { PoliciesSync } from '../up/policies-sync.js';
import { startService } from '../up/service-process.js';
import type { ServiceName, ServiceProcess } from '../up/service-process.js';
import { supervise } from '../up/supervisor.js';
import type { Supervisor } from '../up/supervisor.js';
import { parsePositiveInteger } from './policy-options.js';

/** Standalone mode serves one pool. */
const POOL = 'default';
const READY_TIMEOUT_MS = 60_000;

interface UpFlags {
  policies: string;
  port: number;
  readinessPort: number;
  stateDir: string;
  workers?: number;
  logLevel: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('must be a port number');
  return port;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('run Castellan locally: NATS, fetcher, one evaluator and the HTTPS gateway; Ctrl-C stops it')
    .option(
      '-p, --policies <file>',
      'policy-server policies file (docs/kubewarden-compatibility.md#policies-file); edits roll out live',
      'policies.yml',
    )
    .option('--port <port>', 'HTTPS port of the gateway', parsePort, 8443)
    .option('--readiness-port <port>', 'plain-HTTP port for /readiness and /metrics', parsePort, 8081)
    .option(
      '--state-dir <dir>',
      'where the local NATS store and certificates live',
      join(homedir(), '.cache', 'castellan', 'up'),
    )
    .option('--workers <n>', 'evaluation worker threads (default: one per CPU)', parsePositiveInteger)
    .option('--log-level <level>', 'service log level (info, debug, warn…)', 'info')
    .action(async (flags: UpFlags) => up(flags));
}

async function up(flags: UpFlags): Promise<void> {
  const policiesPath = resolve(flags.policies);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const notice = (line: string) => process.stderr.write(`${line}\n`);
  const onLine = (name: ServiceName, line: string) =>
    process.stderr.write(`${formatServiceLine(name, line)}\n`);
  // In start order: NATS, fetcher, evaluator, gateway. Stopped in reverse, so services drain first.
  const supervisors: Supervisor[] = [];
  const stopping = new AbortController();
  const supervision = { say: notice, stopping: stopping.signal };
  // Each service restarted with the environment it first had: its credentials files stay put.
  const superviseService = (name: ServiceName, env: Record<string, string>, first?: ServiceProcess) => {
    const start = () => startService(name, env, onLine);
    supervisors.push(supervise(name, first ?? start(), () => Promise.resolve(start()), supervision));
  };
  let nc: NatsConnection | undefined;
  let sync: PoliciesSync | undefined;

  try {
    // Keys, CA and credentials of the bus: a server given by NATS_URL must trust them too.
    const bus = await prepareLocalBus(join(flags.stateDir, 'bus'));
    const natsDir = join(flags.stateDir, 'nats');
    let natsUrl = process.env.NATS_URL;
    if (natsUrl === undefined) {
      const nats = await startLocalNats(natsDir, bus.serverConfig);
      // Back on the same port, so the URL the services (and the control connection) hold stays good.
      const restart = () => startLocalNats(natsDir, bus.serverConfig, nats.port);
      supervisors.push(supervise('nats-server', nats, restart, supervision));
      natsUrl = nats.url;
    }
    const access = async (identity: BusIdentity) => ({
      natsUrl,
      natsCredentialsFile: await bus.credentialsFile(identity),
      natsCaFile: bus.caFile,
    });
    const serviceEnv = async (identity: BusIdentity) => ({
      ...busAccessEnv(await access(identity)),
      CASTELLAN_LOG_LEVEL: flags.logLevel,
    });
    say(
      `✓ NATS       ${natsUrl}${process.env.NATS_URL === undefined ? ` (local, store in ${natsDir})` : ' (NATS_URL)'}`,
    );
    const tls = await ensureGatewayTls(join(flags.stateDir, 'tls'));

    // The user's own machine: modules beside the policies file, and registries on loopback.
    const fetcherAccess = {
      CASTELLAN_FETCHER_FILE_ROOTS: dirname(policiesPath),
      CASTELLAN_FETCHER_ALLOWED_NETWORKS: '127.0.0.0/8,::1',
    };
    superviseService('fetcher', { ...(await serviceEnv({ role: 'fetcher' })), ...fetcherAccess });
    superviseService('evaluator', {
      ...(await serviceEnv({ role: 'evaluator', pool: POOL })),
      CASTELLAN_POOL: POOL,
      ...(flags.workers ? { CASTELLAN_WORKERS: String(flags.workers) } : {}),
    });
    say('✓ services   fetcher, evaluator (pool "default") started');

    const control: BusIdentity = { role: 'control' };
    // Like the services' connections, it outlives any NATS outage: edits must reach the KV after it.
    nc = await connect({ ...busConnectionOptions(await access(control), control), maxReconnectAttempts: -1 });
    const publisher = await PolicyPublisher.open(nc, new OutageAwareFetchClient(nc));
    sync = syncPoliciesFile(policiesPath, publisher, POOL);
    say(`… policies   fetching the modules of ${policiesPath}`);
    const outcomes = await sync.apply().catch(toCliError);
    const failed = reportOutcomes(outcomes, say);
    const example = outcomes.find((outcome) => outcome.result !== 'failed' && outcome.result !== 'removed');

    const gatewayEnv = {
      ...(await serviceEnv({ role: 'gateway' })),
      CASTELLAN_GATEWAY_ADDRESS: '127.0.0.1',
      CASTELLAN_GATEWAY_PORT: String(flags.port),
      CASTELLAN_READINESS_PORT: String(flags.readinessPort),
      CASTELLAN_TLS_CERT_FILE: tls.certPath,
      CASTELLAN_TLS_KEY_FILE: tls.keyPath,
    };
    // Supervised once ready: a gateway that cannot start (a port in use) is an error, not a restart.
    const gateway = startService('gateway', gatewayEnv, onLine);
    await waitUntilReady(flags.readinessPort, gateway).catch(async (error: unknown) => {
      await gateway.stop();
      throw error;
    });
    superviseService('gateway', gatewayEnv, gateway);

    const url = `https://127.0.0.1:${flags.port}`;
    say('');
    say(`Castellan is up. Gateway: ${url}   CA certificate: ${tls.caPath}`);
    say('Try it:');
    say(
      `  curl --cacert ${tls.caPath} -H 'Content-Type: application/json' \\\n` +
        `    --data @examples/requests/privileged-pod.json ${url}/validate/${example?.policyId ?? '<policy id>'}`,
    );
    if (failed > 0)
      say(
        `${failed} polic${failed === 1 ? 'y' : 'ies'} could not be loaded (see ✗ above): fix and save the file.`,
      );
    say(`Editing ${policiesPath} rolls the change out live. Ctrl-C stops everything.`);

    sync.follow({
      onApplied: (outcomes) => reportOutcomes(outcomes, say),
      onError: (error) => say(`✗ policies   ${error.message}`),
      onRetry: (delayMs) =>
        say(`… policies   NATS or the fetcher out of reach; publishing again in ${formatDelay(delayMs)}`),
    });
    await waitForSignal();
    say('stopping…');
  } finally {
    stopping.abort();
    sync?.stop();
    // Closed before NATS stops: it would otherwise try to reconnect forever and keep up alive.
    await nc?.close();
    for (const supervisor of [...supervisors].reverse()) await supervisor.stop();
  }
}

/** Prints one line per policy; returns how many failed. */
function reportOutcomes(outcomes: PublishOutcome[], say: (line: string) => void): number {
  for (const outcome of outcomes) {
    switch (outcome.result) {
      case 'failed':
        say(`✗ ${outcome.policyId}: ${outcome.error.message}`);
        break;
      case 'removed':
        say(`✓ ${outcome.policyId}: removed`);
        break;
      default: {
        const { module, group } = outcome.config;
        const count = group ? Object.keys(group.members).length : 0;
        const modules = group
          ? `group of ${count} member${count === 1 ? '' : 's'}`
          : `module sha256:${module?.sha256.slice(0, 12) ?? '?'}`;
        say(`✓ ${outcome.policyId}: ${outcome.result}, revision ${outcome.revision}, ${modules}`);
      }
    }
  }
  return outcomes.filter((outcome) => outcome.result === 'failed').length;
}

/** Waits for the gateway's readiness; fails at once if the gateway exits (a port in use, say). */
async function waitUntilReady(port: number, gateway: ServiceProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  void gateway.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited)
      throw new CliError(
        'the gateway could not start; see its log above (is --port or --readiness-port in use?)',
      );
    const ready = await fetch(`http://127.0.0.1:${port}/readiness`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await sleep(100);
  }
  throw new CliError(`the gateway was not ready after ${READY_TIMEOUT_MS / 1000} s; see its log above`);
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

function toCliError(error: unknown): never {
  throw new CliError(messageOf(error));
}
