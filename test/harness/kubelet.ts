// Plays the kubelet's part for tests against the real kube-apiserver (test/harness/control-plane.ts):
// runs the pods of evaluator Deployments as local processes, and writes Secrets to files as a
// Secret volume would. It reads Deployments and Secrets through the API, as a kubelet does.
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { startProcess } from './processes.js';
import type { ServerProcess } from './processes.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const POLL_MS = 200;

interface EnvVar {
  name: string;
  value?: string;
}

interface ContainerLike {
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
}

interface DeploymentLike {
  metadata: { name: string; generation?: number };
  spec?: {
    replicas?: number;
    template?: {
      spec?: { containers?: ContainerLike[]; volumes?: { name: string; secret?: { secretName: string } }[] };
    };
  };
}

/** One pod of a Deployment, run as a process. */
export interface FakePod {
  deployment: string;
  process: ServerProcess;
  /** The environment it was started with, paths into its Secret volumes rewritten. */
  env: Readonly<Record<string, string>>;
}

/** A pod, and how to take its Secret volumes down once it stopped. */
interface RunningPod extends FakePod {
  unmount(): Promise<void>;
}

/** A Secret volume of the container: where the pod expects it. */
interface SecretMount {
  secretName: string;
  mountPath: string;
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
}

/**
 * Runs every Deployment of `namespace` whose container runs `node services/<x>/dist/main.js`:
 * `replicas` processes with the container's literal `env` values. Each Secret volume of the
 * container is written to a directory of the pod (kept up to date, as the kubelet does), and env
 * values under its mount path point there; until every such Secret exists the pods wait, as they
 * would in ContainerCreating. A changed pod template (new generation) replaces the pods, as a
 * rolling update would; a deleted Deployment stops them.
 */
export function startFakeKubelet(kubeConfig: KubeConfig, options: FakeKubeletOptions): FakeKubelet {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const running = new Map<string, RunningPod[]>();
  /** The generation each Deployment's pods were started from (a Deployment may have none). */
  const runningGeneration = new Map<string, number | undefined>();
  /** Deployments whose pods wait for Secrets, and which. */
  const waiting = new Map<string, string[]>();
  let started = 0;
  let stopped = false;

  const secretMountsOf = (deployment: DeploymentLike, container: ContainerLike): SecretMount[] =>
    (container.volumeMounts ?? []).flatMap((mount) => {
      const volume = deployment.spec?.template?.spec?.volumes?.find((v) => v.name === mount.name);
      return volume?.secret ? [{ secretName: volume.secret.secretName, mountPath: mount.mountPath }] : [];
    });

  /** Starts one pod: its Secret volumes written to a directory of its own, then its process. */
  const startPod = async (
    deployment: string,
    entry: string,
    env: Record<string, string>,
    mounts: SecretMount[],
  ): Promise<RunningPod> => {
    const dir = await mkdtemp(join(tmpdir(), 'castellan-pod-'));
    const volumes: (SecretMount & { target: string; sync: { stop(): void } })[] = [];
    const unmount = async () => {
      for (const volume of volumes) volume.sync.stop();
      await rm(dir, { recursive: true, force: true });
    };
    try {
      for (const mount of mounts) {
        const target = join(dir, String(volumes.length));
        // Checked to exist just before; a Secret deleted meanwhile fails at once.
        volumes.push({
          ...mount,
          target,
          sync: await mountSecret(kubeConfig, options.namespace, mount.secretName, target, 0),
        });
      }
    } catch (error) {
      await unmount();
      throw error;
    }
    const podEnv = Object.fromEntries(
      Object.entries(env).map(([name, value]) => {
        const volume = volumes.find((v) => value === v.mountPath || value.startsWith(`${v.mountPath}/`));
        return [name, volume ? `${volume.target}${value.slice(volume.mountPath.length)}` : value];
      }),
    );
    started += 1;
    return {
      deployment,
      env: podEnv,
      process: startProcess(process.execPath, [join(repo, entry)], podEnv),
      unmount,
    };
  };

  const stopPods = (pods: RunningPod[]) =>
    Promise.all(
      pods.map(async (pod) => {
        await pod.process.stop();
        await pod.unmount();
      }),
    );

  /** The pods of a Deployment, or undefined while a Secret they mount does not exist. */
  const podsFor = async (
    deployment: DeploymentLike,
    secretNames: ReadonlySet<string>,
  ): Promise<RunningPod[] | undefined> => {
    const container = deployment.spec?.template?.spec?.containers?.[0];
    const entry = [...(container?.command ?? []), ...(container?.args ?? [])].find((arg) =>
      /^services\/[a-z-]+\/dist\/main\.js$/.test(arg),
    );
    if (!container || !entry) return [];
    const mounts = secretMountsOf(deployment, container);
    const missing = mounts.map((mount) => mount.secretName).filter((name) => !secretNames.has(name));
    if (missing.length > 0) {
      waiting.set(deployment.metadata.name, missing);
      return undefined;
    }
    waiting.delete(deployment.metadata.name);
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined) env[variable.name] = variable.value;
    }
    Object.assign(env, options.env);
    const pods: RunningPod[] = [];
    try {
      for (let replica = 0; replica < (deployment.spec?.replicas ?? 1); replica++) {
        pods.push(await startPod(deployment.metadata.name, entry, env, mounts));
      }
    } catch {
      // A Secret went away between the check and the mount: wait for it again.
      await stopPods(pods);
      waiting.set(
        deployment.metadata.name,
        mounts.map((mount) => mount.secretName),
      );
      return undefined;
    }
    return pods;
  };

  const sync = async (): Promise<void> => {
    const { namespace } = options;
    const [deployments, secrets] = await Promise.all([
      apps.listNamespacedDeployment({ namespace }),
      core.listNamespacedSecret({ namespace }),
    ]);
    const wanted = new Map(deployments.items.map((d) => [d.metadata?.name ?? '', d as DeploymentLike]));
    const secretNames = new Set(secrets.items.map((secret) => secret.metadata?.name ?? ''));
    for (const [name, pods] of running) {
      const deployment = wanted.get(name);
      if (deployment && runningGeneration.get(name) === deployment.metadata.generation) continue;
      running.delete(name);
      runningGeneration.delete(name);
      await stopPods(pods);
    }
    for (const name of waiting.keys()) if (!wanted.has(name)) waiting.delete(name);
    for (const [name, deployment] of wanted) {
      if (running.has(name)) continue;
      const pods = await podsFor(deployment, secretNames);
      if (!pods) continue;
      running.set(name, pods);
      runningGeneration.set(name, deployment.metadata.generation);
    }
  };

  let lastFailure = '';
  const loop = (async () => {
    while (!stopped) {
      // An API server that restarts is waited out, as a kubelet would.
      await sync().then(
        () => (lastFailure = ''),
        (error: unknown) => (lastFailure = String(error)),
      );
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();

  return {
    pods: () => [...running.values()].flat(),
    started: () => started,
    logs: () =>
      [
        ...[...running.values()].flat().map((pod) => `--- pod of ${pod.deployment}\n${pod.process.output()}`),
        ...[...waiting].map(
          ([name, missing]) => `--- pods of ${name} wait for Secrets ${missing.join(', ')}`,
        ),
        ...(lastFailure ? [`--- the kubelet's last read failed: ${lastFailure}`] : []),
      ].join('\n'),
    async stop() {
      stopped = true;
      await loop;
      await stopPods([...running.values()].flat());
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
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  dir: string,
  timeoutMs = 30_000,
): Promise<{ stop(): void }> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await mkdir(dir, { recursive: true });
  let written = '';
  const sync = async (): Promise<boolean> => {
    const secret: V1Secret | undefined = await core
      .readNamespacedSecret({ name, namespace })
      .catch(() => undefined);
    if (!secret?.data) return false;
    if (secret.metadata?.resourceVersion === written) return true;
    for (const [key, value] of Object.entries(secret.data)) {
      const temporary = join(dir, `.${key}.tmp`);
      await writeFile(temporary, Buffer.from(value, 'base64'));
      await rename(temporary, join(dir, key));
    }
    written = secret.metadata?.resourceVersion ?? '';
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
