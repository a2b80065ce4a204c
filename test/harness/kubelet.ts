// Plays the kubelet's part for tests against the in-memory Kubernetes API fake: runs the pods of
// evaluator Deployments as local processes, and writes Secrets to files as a Secret volume would.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeApi, StoredObject } from './kube-api/index.js';
import { startProcess } from './processes.js';
import type { ServerProcess } from './processes.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const POLL_MS = 100;

interface EnvVar {
  name: string;
  value?: string;
}

interface DeploymentLike extends StoredObject {
  spec?: {
    replicas?: number;
    template?: { spec?: { containers?: { args?: string[]; command?: string[]; env?: EnvVar[] }[] } };
  };
}

/** One pod of a Deployment, run as a process. */
export interface FakePod {
  deployment: string;
  process: ServerProcess;
}

export interface FakeKubelet {
  /** Pods running now, by Deployment. */
  pods(): FakePod[];
  /** Every pod ever started (a restart shows as a new pod). */
  started(): number;
  /** The output of every pod, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export interface FakeKubeletOptions {
  namespace: string;
  /** Extra environment for every pod (e.g. short heartbeats), after the Deployment's own. */
  env?: Record<string, string>;
  /** The NATS access of an evaluator pod of `pool` (`CASTELLAN_NATS_CREDS`, `CASTELLAN_NATS_CA`). */
  busEnv?: (pool: string) => Record<string, string>;
}

/**
 * Runs every Deployment of `namespace` whose container runs `node services/<x>/dist/main.js`:
 * `replicas` processes with the container's literal `env` values. A changed pod template
 * (new generation) replaces the pods, as a rolling update would; a deleted Deployment stops them.
 */
export function startFakeKubelet(api: KubeApi, options: FakeKubeletOptions): FakeKubelet {
  const deployments = api.registry.byKind('apps/v1', 'Deployment');
  if (!deployments) throw new Error('the fake API server serves no Deployments');
  const running = new Map<string, FakePod[]>();
  /** The generation each Deployment's pods were started from (a Deployment may have none). */
  const runningGeneration = new Map<string, number | undefined>();
  let started = 0;
  let stopped = false;

  const podsFor = (deployment: DeploymentLike): FakePod[] => {
    const container = deployment.spec?.template?.spec?.containers?.[0];
    const entry = [...(container?.command ?? []), ...(container?.args ?? [])].find((arg) =>
      /^services\/[a-z-]+\/dist\/main\.js$/.test(arg),
    );
    if (!entry) return [];
    const env: Record<string, string> = {};
    for (const variable of container?.env ?? []) {
      if (variable.value !== undefined) env[variable.name] = variable.value;
    }
    Object.assign(env, options.env);
    if (env.CASTELLAN_POOL !== undefined) Object.assign(env, options.busEnv?.(env.CASTELLAN_POOL));
    return Array.from({ length: deployment.spec?.replicas ?? 1 }, () => {
      started += 1;
      return {
        deployment: deployment.metadata.name,
        process: startProcess(process.execPath, [join(repo, entry)], env),
      };
    });
  };

  const sync = async (): Promise<void> => {
    const wanted = new Map(
      api.store.list(deployments, options.namespace).map((d) => [d.metadata.name, d as DeploymentLike]),
    );
    for (const [name, pods] of running) {
      const deployment = wanted.get(name);
      if (deployment && runningGeneration.get(name) === deployment.metadata.generation) continue;
      running.delete(name);
      runningGeneration.delete(name);
      await Promise.all(pods.map((pod) => pod.process.stop()));
    }
    for (const [name, deployment] of wanted) {
      if (running.has(name)) continue;
      running.set(name, podsFor(deployment));
      runningGeneration.set(name, deployment.metadata.generation);
    }
  };

  const loop = (async () => {
    while (!stopped) {
      await sync();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();

  return {
    pods: () => [...running.values()].flat(),
    started: () => started,
    logs: () =>
      [...running.values()]
        .flat()
        .map((pod) => `--- pod of ${pod.deployment}\n${pod.process.output()}`)
        .join('\n'),
    async stop() {
      stopped = true;
      await loop;
      await Promise.all([...running.values()].flat().map((pod) => pod.process.stop()));
      running.clear();
    },
  };
}

/**
 * Writes the keys of a Secret as files in `dir` whenever the Secret changes, each file replaced
 * atomically (a rename), as the kubelet updates a mounted Secret volume. Resolves once the Secret
 * exists and its files are written.
 */
export async function mountSecret(
  api: KubeApi,
  namespace: string,
  name: string,
  dir: string,
  timeoutMs = 30_000,
): Promise<{ stop(): void }> {
  const secrets = api.registry.byKind('v1', 'Secret');
  if (!secrets) throw new Error('the fake API server serves no Secrets');
  await mkdir(dir, { recursive: true });
  let written = '';
  const sync = async (): Promise<boolean> => {
    const secret = api.store.find(secrets, namespace, name);
    if (!secret?.data) return false;
    if (secret.metadata.resourceVersion === written) return true;
    for (const [key, value] of Object.entries(secret.data as Record<string, string>)) {
      const temporary = join(dir, `.${key}.tmp`);
      await writeFile(temporary, Buffer.from(value, 'base64'));
      await rename(temporary, join(dir, key));
    }
    written = secret.metadata.resourceVersion ?? '';
    return true;
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await sync())) {
    if (Date.now() > deadline)
      throw new Error(`Secret ${namespace}/${name} was not created within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const timer = setInterval(() => void sync(), POLL_MS);
  return { stop: () => clearInterval(timer) };
}
