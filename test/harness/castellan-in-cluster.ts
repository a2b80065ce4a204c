// Castellan as it runs in a cluster, its pods played by local processes: the fetcher, the
// reconciler replicas and the gateway (the Deployments of deploy/), and the evaluator pools the
// reconciler creates, run by the fake kubelet from their Deployments. Each process reads what a pod
// would mount: its NATS credentials, and the gateway its serving certificate from the Secret the
// reconciler writes.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlPlane } from './control-plane.js';
import { mountSecret, startFakeKubelet } from './kubelet.js';
import type { FakeKubelet } from './kubelet.js';
import type { NatsServer } from './nats.js';
import { freeLoopbackPort, startProcess, waitUntilReady } from './processes.js';
import type { ServerProcess } from './processes.js';
import type { TestRegistry } from './registry.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
export const CASTELLAN_NAMESPACE = 'castellan';
/** The image the reconciler runs evaluators with (the fake kubelet runs their entry from the repo). */
export const EVALUATOR_IMAGE = 'ghcr.io/castellan-dev/castellan:test';
const SERVICE_READY_MS = 30_000;
/** The kubelet's first restart back-off is 10 s; a test has no time for that. */
const RESTART_DELAY_MS = 1_000;

export interface InClusterOptions {
  /** The API server the reconcilers and the kubelet talk to. */
  cluster: ControlPlane;
  nats: NatsServer;
  /** A plain-HTTP registry on loopback, which the fetcher's sources.yml trusts. */
  registry: TestRegistry;
  /** A directory of the test's, for the gateway's certificate and the fetcher's sources.yml. */
  dir: string;
  /** Reconciler replicas by identity: more than one elect a leader (a 2 s Lease). */
  reconcilers: readonly string[];
  /**
   * Whether webhooks point at the gateway's URL (https://127.0.0.1:<port>) instead of its Service:
   * the API server here cannot reach a Service (no kube-proxy, no cluster DNS), so only a test that
   * calls the webhooks itself may leave them on the Service.
   */
  gatewayByUrl: boolean;
}

export interface CastellanInCluster {
  /** The gateway's HTTPS port on 127.0.0.1. */
  readonly gatewayPort: number;
  /** `http://127.0.0.1:<port>`: the gateway's `/readiness` and `/metrics`. */
  readonly gatewayAdminUrl: string;
  readonly kubelet: FakeKubelet;
  /**
   * The processes started here by name (`fetcher`, `gateway`, each reconciler identity): the one
   * running now. One that exits on its own is started again a second later, as a kubelet restarts
   * a container (a reconciler that loses its Lease exits on purpose).
   */
  readonly services: ReadonlyMap<string, ServerProcess>;
  /** Kills a service for good, as a lost node would: it is not started again. */
  kill(name: string): Promise<void>;
  /** How many times each service was started again after exiting. */
  restarts(name: string): number;
  /** Every process's output, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** Starts the fetcher, the reconcilers, the fake kubelet and the gateway, in that order. */
export async function startCastellanInCluster(options: InClusterOptions): Promise<CastellanInCluster> {
  const { nats, dir } = options;
  const services = new Map<string, ServerProcess>();
  /** Services not to start again: killed by the test, or everything once stopping. */
  const stopped = new Set<string>();
  const restartCounts = new Map<string, number>();
  let stopping = false;
  let kubelet: FakeKubelet | undefined;
  let tlsMount: { stop(): void } | undefined;
  const stop = async () => {
    stopping = true;
    tlsMount?.stop();
    await kubelet?.stop();
    await Promise.all([...services.values()].map((child) => child.stop()));
  };
  /** Output of the earlier runs of each service that was started again. */
  const pastOutput = new Map<string, string>();
  const logs = () =>
    [
      ...[...services].map(([name, child]) => `--- ${name}\n${pastOutput.get(name) ?? ''}${child.output()}`),
      kubelet?.logs() ?? '',
    ].join('\n');
  const start = (name: string, entry: string, env: Record<string, string>): ServerProcess => {
    const child = startProcess(process.execPath, [join(repo, 'services', entry, 'dist/main.js')], {
      CASTELLAN_LOG_LEVEL: 'info',
      ...env,
    });
    services.set(name, child);
    child.child.once('exit', (code, signal) => {
      if (stopping || stopped.has(name)) return;
      const ended = `--- ${name} exited (${code ?? signal}): starting it again\n`;
      pastOutput.set(name, `${pastOutput.get(name) ?? ''}${child.output()}\n${ended}`);
      setTimeout(() => {
        if (stopping || stopped.has(name)) return;
        restartCounts.set(name, (restartCounts.get(name) ?? 0) + 1);
        start(name, entry, env);
      }, RESTART_DELAY_MS);
    });
    return child;
  };
  const untilReady = async (name: string, child: ServerProcess, port: number) =>
    waitUntilReady(
      child,
      name,
      async () => (await fetch(`http://127.0.0.1:${port}/readiness`)).ok,
      SERVICE_READY_MS,
    );

  try {
    // The registry is a plain-HTTP server on loopback: the fetcher's own configuration says both.
    const sourcesPath = join(dir, 'sources.yml');
    await writeFile(sourcesPath, `insecure_sources: ["${options.registry.host}"]\n`);
    start('fetcher', 'fetcher', {
      ...(await nats.serviceEnv({ role: 'fetcher' })),
      CASTELLAN_SOURCES_PATH: sourcesPath,
      CASTELLAN_FETCHER_ALLOWED_NETWORKS: '127.0.0.1/32',
    });

    const gatewayPort = await freeLoopbackPort();
    const leaderElect = options.reconcilers.length > 1;
    for (const identity of options.reconcilers) {
      const readinessPort = await freeLoopbackPort();
      const reconciler = start(identity, 'reconciler', {
        ...(await nats.serviceEnv({ role: 'control' })),
        KUBECONFIG: options.cluster.kubeconfigPath,
        CASTELLAN_NAMESPACE: CASTELLAN_NAMESPACE,
        CASTELLAN_LEADER_ELECT: String(leaderElect),
        CASTELLAN_LEADER_ELECTION_LEASE_SECONDS: '2',
        CASTELLAN_IDENTITY: identity,
        CASTELLAN_READINESS_PORT: String(readinessPort),
        CASTELLAN_EVALUATOR_IMAGE: EVALUATOR_IMAGE,
        // The signing keys of the bus, as the operator supplies them (castellan bus-secrets): the
        // reconciler mints each pool's credentials with them.
        CASTELLAN_NATS_AUTHORITY_FILE: nats.authorityFile,
        ...(options.gatewayByUrl ? { CASTELLAN_GATEWAY_URL: `https://127.0.0.1:${gatewayPort}` } : {}),
      });
      await untilReady(identity, reconciler, readinessPort);
    }
    kubelet = startFakeKubelet(options.cluster.kubeConfig(), {
      namespace: CASTELLAN_NAMESPACE,
      env: { CASTELLAN_HEARTBEAT_MS: '300', CASTELLAN_ROLLOUT_GRACE_MS: '500', CASTELLAN_WORKERS: '1' },
    });

    // The gateway pod mounts the serving certificate the reconciler writes.
    const tlsDir = join(dir, 'gateway-tls');
    tlsMount = await mountSecret(
      options.cluster.kubeConfig(),
      CASTELLAN_NAMESPACE,
      'castellan-gateway-tls',
      tlsDir,
    );
    const adminPort = await freeLoopbackPort();
    const gateway = start('gateway', 'gateway', {
      ...(await nats.serviceEnv({ role: 'gateway' })),
      CASTELLAN_GATEWAY_ADDRESS: '127.0.0.1',
      CASTELLAN_GATEWAY_PORT: String(gatewayPort),
      CASTELLAN_READINESS_PORT: String(adminPort),
      CASTELLAN_TLS_CERT_FILE: join(tlsDir, 'tls.crt'),
      CASTELLAN_TLS_KEY_FILE: join(tlsDir, 'tls.key'),
    });
    await untilReady('gateway', gateway, adminPort);
    return {
      gatewayPort,
      gatewayAdminUrl: `http://127.0.0.1:${adminPort}`,
      kubelet,
      services,
      async kill(name) {
        stopped.add(name);
        await services.get(name)?.kill();
      },
      restarts: (name) => restartCounts.get(name) ?? 0,
      logs,
      stop,
    };
  } catch (error) {
    const output = logs();
    await stop();
    throw new Error(`Castellan did not start: ${String(error)}\n${output}`, { cause: error });
  }
}
