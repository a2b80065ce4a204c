import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EvaluatorDirectory, FetchClient, PolicyPublisher } from '@castellan/control';
import type { RevisionReach } from '@castellan/control';
import { prepareLocalBus } from '@castellan/bus-auth';
import { messageOf } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import { busAccessEnv } from '@castellan/service-host';
import type { NatsConnection } from '@nats-io/nats-core';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { pino } from 'pino';
import { CliError } from '../cli-error.js';
import { formatDelay } from '../up/backoff.js';
import { connectControl } from '../up/control-connection.js';
import { EvaluatorLoads } from '../up/evaluator-loads.js';
import { waitUntilReady } from '../up/gateway-readiness.js';
import { ensureGatewayTls } from '../up/gateway-tls.js';
import { startLocalNats } from '../up/local-nats.js';
import { formatServiceLine } from '../up/log-lines.js';
import { syncPoliciesFile } from '../up/policies-sync.js';
import type { PoliciesSync } from '../up/policies-sync.js';
import {
  checkPoliciesFile,
  checkPortsFree,
  checkSourcesFile,
  DEFAULT_POLICIES_FILE,
} from '../up/preflight.js';
import { reportPublished } from '../up/publish-report.js';
import { startService } from '../up/service-process.js';
import type { ServiceName, ServiceProcess } from '../up/service-process.js';
import { lockStateDir } from '../up/state-lock.js';
import { listenForStop, StopRequested } from '../up/stop-request.js';
import { supervise } from '../up/supervisor.js';
import type { Supervisor } from '../up/supervisor.js';
import { parsePositiveInteger } from './policy-options.js';

/** Standalone mode serves one pool. */
const POOL = 'default';
/** A stop before `up` was up (a fatal error, Ctrl-C during the start): nothing was served to drain. */
const EARLY_STOP_GRACE_MS = 1_000;
/** Once the gateway is ready every policy has a status: the watch of the statuses is just behind. */
const LOADS_SETTLE_MS = 5_000;
/** Liveness is a matter of time as well as of writes: verdicts are looked at again this often. */
const LOADS_REVIEW_MS = 1_000;
const NO_REACH: RevisionReach = { live: 0, serving: 0, failures: [] };

interface UpFlags {
  policies?: string;
  port: number;
  readinessPort: number;
  stateDir: string;
  sourcesPath?: string;
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
      `policy-server policies file (docs/kubewarden-compatibility.md#policies-file); edits roll out live (default: ./${DEFAULT_POLICIES_FILE})`,
    )
    .option('--port <port>', 'HTTPS port of the gateway', parsePort, 8443)
    .option('--readiness-port <port>', 'plain-HTTP port for /readiness and /metrics', parsePort, 8081)
    .option(
      '--state-dir <dir>',
      'where the local NATS store and certificates live (one castellan up at a time)',
      join(homedir(), '.cache', 'castellan', 'up'),
    )
    .option('--sources-path <file>', 'Kubewarden sources.yml for the fetcher: insecure registries, extra CAs')
    .option('--workers <n>', 'evaluation worker threads (default: one per CPU)', parsePositiveInteger)
    .option('--log-level <level>', 'service log level (info, debug, warn…)', 'info')
    .action(async (flags: UpFlags) => up(flags));
}

async function up(flags: UpFlags): Promise<void> {
  const policiesPath = resolve(flags.policies ?? DEFAULT_POLICIES_FILE);
  const sourcesPath = flags.sourcesPath === undefined ? undefined : resolve(flags.sourcesPath);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const notice = (line: string) => process.stderr.write(`${line}\n`);
  const onLine = (name: ServiceName, line: string) =>
    process.stderr.write(`${formatServiceLine(name, line)}\n`);
  // From the very start: a signal while starting stops what was started, not `up` alone.
  const stop = listenForStop();
  // In start order: NATS, fetcher, evaluator, gateway. Stopped in reverse, so services drain first.
  const supervisors: Supervisor[] = [];
  const stopping = new AbortController();
  const supervision = { say: notice, stopping: stopping.signal };
  // Each service restarted with the environment it first had: its credentials files stay put.
  const superviseService = (name: ServiceName, env: Record<string, string>, first?: ServiceProcess) => {
    const start = () => startService(name, env, onLine);
    supervisors.push(supervise(name, first ?? start(), () => Promise.resolve(start()), supervision));
  };
  let unsupervisedGateway: ServiceProcess | undefined;
  let nc: NatsConnection | undefined;
  let sync: PoliciesSync | undefined;
  let directory: EvaluatorDirectory | undefined;
  let reviewTimer: NodeJS.Timeout | undefined;
  /** Set once `up` is up: from then on a stop drains the services. */
  let serving = false;

  try {
    const lock = await lockStateDir(flags.stateDir);
    try {
      // Everything the user gave is checked before anything starts.
      await checkPoliciesFile(policiesPath, flags.policies !== undefined);
      await checkPortsFree({ '--port': flags.port, '--readiness-port': flags.readinessPort });
      if (sourcesPath !== undefined) await checkSourcesFile(sourcesPath);

      // Keys, CA and credentials of the bus: a server given by NATS_URL must trust them too.
      const bus = await prepareLocalBus(join(flags.stateDir, 'bus'));
      const natsDir = join(flags.stateDir, 'nats');
      const fromEnvironment = process.env.NATS_URL !== undefined;
      let natsUrl = process.env.NATS_URL;
      if (natsUrl === undefined) {
        const nats = await stop.unlessStopped(startLocalNats(natsDir, bus.serverConfig));
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
      const given = { fromEnvironment, serverConfigFile: bus.serverConfigFile };
      nc = await stop.unlessStopped(connectControl(await access({ role: 'control' }), given));
      say(`✓ NATS       ${natsUrl}${fromEnvironment ? ' (NATS_URL)' : ` (local, store in ${natsDir})`}`);
      const publisher = await stop.unlessStopped(
        PolicyPublisher.open(nc, new FetchClient(nc)).catch(toCliError),
      );
      const loads = new EvaluatorLoads((policyId, revision) => {
        return directory?.reach(POOL, policyId, revision) ?? NO_REACH;
      }, say);
      directory = await stop.unlessStopped(
        EvaluatorDirectory.open(nc, {
          replicas: 1,
          logger: pino(
            { level: 'warn', base: undefined },
            { write: (line: string) => notice(formatServiceLine('castellan', line.trimEnd())) },
          ),
          onChange: () => loads.review(),
        }).catch(toCliError),
      );
      reviewTimer = setInterval(() => loads.review(), LOADS_REVIEW_MS);
      const tls = await ensureGatewayTls(join(flags.stateDir, 'tls'));

      // The user's own machine: modules beside the policies file, and registries on loopback.
      const fetcherAccess = {
        CASTELLAN_FETCHER_FILE_ROOTS: dirname(policiesPath),
        CASTELLAN_FETCHER_ALLOWED_NETWORKS: '127.0.0.0/8,::1',
        ...(sourcesPath !== undefined ? { CASTELLAN_SOURCES_PATH: sourcesPath } : {}),
      };
      superviseService('fetcher', { ...(await serviceEnv({ role: 'fetcher' })), ...fetcherAccess });
      superviseService('evaluator', {
        ...(await serviceEnv({ role: 'evaluator', pool: POOL })),
        CASTELLAN_POOL: POOL,
        ...(flags.workers ? { CASTELLAN_WORKERS: String(flags.workers) } : {}),
      });
      say('✓ services   fetcher, evaluator (pool "default") started');

      sync = syncPoliciesFile(policiesPath, publisher, POOL);
      say(`… policies   fetching the modules of ${policiesPath}`);
      const outcomes = await stop.unlessStopped(sync.apply().catch(toCliError));
      const unpublished = reportPublished(outcomes, say);
      loads.expect(outcomes);
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
      unsupervisedGateway = startService('gateway', gatewayEnv, onLine);
      await stop.unlessStopped(waitUntilReady(flags.readinessPort, unsupervisedGateway));
      superviseService('gateway', gatewayEnv, unsupervisedGateway);
      unsupervisedGateway = undefined;
      await stop.unlessStopped(loads.settled(LOADS_SETTLE_MS));

      const url = `https://127.0.0.1:${flags.port}`;
      say('');
      say(`Castellan is up. Gateway: ${url}   CA certificate: ${tls.caPath}`);
      say('Try it:');
      say(
        `  curl --cacert ${tls.caPath} -H 'Content-Type: application/json' \\\n` +
          `    --data @${exampleReviewPath()} ${url}/validate/${example?.policyId ?? '<policy id>'}`,
      );
      const failed = unpublished + loads.refused();
      if (failed > 0)
        say(
          `${failed} polic${failed === 1 ? 'y' : 'ies'} could not be loaded (see ✗ above): fix and save the file.`,
        );
      say(`Editing ${policiesPath} rolls the change out live. Ctrl-C stops everything.`);

      sync.follow({
        onApplied: (outcomes) => {
          reportPublished(outcomes, say);
          loads.expect(outcomes);
        },
        onError: (error) => say(`✗ policies   ${error.message}`),
        onRetry: (delayMs, policyIds) =>
          say(
            policyIds.length > 0
              ? `… policies   ${policyIds.join(', ')}: module source or fetcher out of reach; publishing again in ${formatDelay(delayMs)}`
              : `… policies   NATS or the fetcher out of reach; publishing again in ${formatDelay(delayMs)}`,
          ),
      });
      serving = true;
      await stop.requested;
      say('stopping…');
    } catch (error) {
      if (!(error instanceof StopRequested)) throw error;
      say('stopping…');
    } finally {
      stopping.abort();
      sync?.stop();
      clearInterval(reviewTimer);
      directory?.stop();
      // Closed before NATS stops: it would otherwise try to reconnect forever and keep up alive.
      await nc?.close();
      if (serving) {
        for (const supervisor of [...supervisors].reverse()) await supervisor.stop();
      } else {
        // Nothing to drain: all at once, so that the error (printed once `up` returns) comes at once.
        const children = [...supervisors, ...(unsupervisedGateway ? [unsupervisedGateway] : [])];
        await Promise.all(children.map((child) => child.stop(EARLY_STOP_GRACE_MS)));
      }
      await lock.release();
    }
  } finally {
    stop.dispose();
  }
}

function toCliError(error: unknown): never {
  throw new CliError(messageOf(error));
}

/**
 * The repository's example AdmissionReview, as an absolute path so the printed curl line works from
 * any directory (this file is `packages/cli/dist/commands/up.js`); a placeholder elsewhere.
 */
function exampleReviewPath(): string {
  const path = fileURLToPath(new URL('../../../../examples/requests/privileged-pod.json', import.meta.url));
  return existsSync(path) ? path : '<AdmissionReview.json>';
}
