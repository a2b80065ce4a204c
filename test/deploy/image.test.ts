import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workload } from './manifests.js';
import { deployDir, readYamlDir, repo, workloads } from './manifests.js';

// No container engine runs here and no base image can be pulled: the image's file tree is checked
// instead, built by the very script the Containerfile runs.
const ASSEMBLE = join(deployDir, 'image', 'assemble.sh');
const CONTAINERFILE = join(repo, 'Containerfile');
// The running Node and its own npm first on PATH.
const PATH = [dirname(process.execPath), process.env.PATH].join(delimiter);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs with only PATH and HOME set (no CASTELLAN_* variable), unless `env` is given. */
async function run(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd,
      env: env ?? { PATH, HOME: root },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    const code = typeof failed.code === 'number' ? failed.code : null;
    return { code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
  }
}

/** The instructions of the Containerfile's last stage. */
function finalStage(containerfile: string): string[] {
  const lines = containerfile.replace(/\\\n/g, ' ').split('\n');
  const from = lines.map((line, index) => (/^FROM\s/i.test(line) ? index : -1)).filter((i) => i >= 0);
  return lines.slice(from.at(-1)).filter((line) => /^[A-Z]+\s/.test(line));
}

let root: string;
let tree: string;
let workdir: string;
let containerfile: string;
let trial: Workload[];

beforeAll(async () => {
  containerfile = await readFile(CONTAINERFILE, 'utf8');
  workdir = finalStage(containerfile)
    .filter((line) => line.startsWith('WORKDIR '))
    .at(-1)!
    .slice('WORKDIR '.length)
    .trim();
  trial = workloads((await readYamlDir(join(deployDir, 'kustomize', 'trial'))).flatMap((f) => f.objects));
  root = await mkdtemp(join(tmpdir(), 'castellan-image-'));
  tree = join(root, 'app');
  // npm ci reads the packages from the user's npm cache.
  const assembled = await run(ASSEMBLE, [repo, tree], repo, { ...process.env, PATH });
  if (assembled.code !== 0) throw new Error(`${ASSEMBLE} failed: ${assembled.stderr}`);
}, 150_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the Castellan image (Containerfile, deploy/image/assemble.sh)', () => {
  it('is assembled by deploy/image/assemble.sh in its build stage and runs as the manifests UID and GID', () => {
    expect(containerfile).toMatch(/^RUN deploy\/image\/assemble\.sh \/src \/app$/m);
    const stage = finalStage(containerfile);
    expect(stage).toContain('COPY --from=build --chown=0:0 /app /app');
    expect(workdir).toBe('/app');
    const user = stage.find((line) => line.startsWith('USER '))?.slice('USER '.length);
    for (const workload of trial) {
      const pod = workload.spec.template.spec.securityContext as { runAsUser?: number; runAsGroup?: number };
      expect(user, workload.metadata.name).toBe(`${pod.runAsUser}:${pod.runAsGroup}`);
    }
  });

  it('holds the runtime workspaces and production dependencies, nothing of test, bench, docs or examples', async () => {
    expect((await readdir(tree)).sort()).toEqual([
      'node_modules',
      'package-lock.json',
      'package.json',
      'packages',
      'proto',
      'services',
    ]);
    const workspaces = ['proto', ...(await readdir(join(tree, 'packages'))).map((p) => `packages/${p}`)];
    workspaces.push(...(await readdir(join(tree, 'services'))).map((s) => `services/${s}`));
    for (const workspace of workspaces) {
      const entries = await readdir(join(tree, workspace));
      expect(
        entries.filter((e) => !['package.json', 'dist', 'bin'].includes(e)),
        workspace,
      ).toEqual([]);
      const compiledTests = (await readdir(join(tree, workspace, 'dist'), { recursive: true })).filter((f) =>
        /\.test\.js$/.test(f),
      );
      expect(compiledTests, workspace).toEqual([]);
    }
    // Every package the lock marks dev-only is absent, the test and build tools among them.
    const lock = JSON.parse(await readFile(join(tree, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => entry.dev === true && path.startsWith('node_modules/'))
      .map(([path]) => path);
    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/vitest', 'node_modules/typescript']));
    const present = await Promise.all(
      devOnly.map((path) =>
        access(join(tree, path)).then(
          () => path,
          () => undefined,
        ),
      ),
    );
    expect(present.filter(Boolean)).toEqual([]);
    for (const tool of ['vitest', 'typescript', 'eslint', 'prettier', 'turbo', 'assemblyscript']) {
      await expect(access(join(tree, 'node_modules', tool)), tool).rejects.toThrow();
    }
  });

  it('links node_modules/@castellan/* to workspaces inside the tree', async () => {
    const links = await readdir(join(tree, 'node_modules', '@castellan'));
    expect(links.sort()).toEqual(
      expect.arrayContaining(['cli', 'evaluator', 'fetcher', 'gateway', 'proto', 'reconciler', 'runtime']),
    );
    for (const link of links) {
      const target = await realpath(join(tree, 'node_modules', '@castellan', link));
      expect(relative(tree, target), link).toMatch(/^(proto|packages\/[\w-]+|services\/[\w-]+)$/);
    }
  });

  it('starts every service with the command and working directory the manifests and the reconciler give it', async () => {
    // The evaluators' Deployment is the reconciler's to write: its command and directory are read
    // from the reconciler's code in the tree.
    const evaluatorWorkload = await readFile(
      join(tree, 'services/reconciler/dist/evaluator-workload.js'),
      'utf8',
    );
    const evaluatorCommand = /command: \[([^\]]*'services\/evaluator\/dist\/main\.js')\]/.exec(
      evaluatorWorkload,
    )?.[1];
    const evaluatorDir = /const APP_DIR = '([^']+)'/.exec(evaluatorWorkload)?.[1];
    const entries = [
      ...trial
        .filter((w) => w.metadata.name !== 'castellan-nats')
        .map((w) => {
          const container = w.spec.template.spec.containers[0]! as {
            command?: string[];
            workingDir?: string;
          };
          return { name: w.metadata.name, command: container.command ?? [], dir: container.workingDir };
        }),
      {
        name: 'castellan-evaluator',
        command: (evaluatorCommand ?? '').split(',').map((part) => part.trim().replace(/^'|'$/g, '')),
        dir: evaluatorDir,
      },
    ];
    expect(entries.map((e) => e.name).sort()).toEqual([
      'castellan-evaluator',
      'castellan-fetcher',
      'castellan-gateway',
      'castellan-reconciler',
    ]);
    const runs = await Promise.all(
      entries.map(async ({ name, command, dir }) => {
        expect(dir, name).toBe(workdir);
        expect(command[0], name).toBe('node');
        return { name, result: await run(process.execPath, command.slice(1), tree) };
      }),
    );
    // Configuration is read only once every module has loaded (static ESM imports): a service that
    // names its missing NATS credentials has resolved all of its dependencies in the tree.
    for (const { name, result } of runs) {
      const service = name.replace('castellan-', '');
      expect(result.stderr, name).toMatch(new RegExp(`^${name}: invalid ${service} configuration:$`, 'm'));
      expect(result.stderr, name).toMatch(/CASTELLAN_NATS_CREDS is required/);
      expect(result.code, `${name}\n${result.stderr}`).toBe(2);
    }
  });

  it("loads the evaluators' worker thread module, which the services load only when they start", async () => {
    const worker = './packages/runtime/dist/worker/evaluation-worker.js';
    const result = await run(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(worker)})`],
      tree,
    );
    expect(result.stderr).toMatch(/evaluation-worker must run in a worker thread/);
    expect(result.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND/);
  });

  it('carries the castellan CLI, its entry point: --help, and a policy evaluated by `castellan run`', async () => {
    expect(finalStage(containerfile)).toContain('ENTRYPOINT ["node", "packages/cli/bin/castellan.js"]');
    const help = await run(process.execPath, ['packages/cli/bin/castellan.js', '--help'], tree);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/bus-secrets/);
    const module = join(repo, 'examples', 'build', 'pod-privileged.wasm');
    await access(module).catch(() => {
      throw new Error(`${module} is missing: run \`npm run build\` (it builds the examples)`);
    });
    const request = join(repo, 'examples', 'requests', 'privileged-pod.json');
    const evaluated = await run(
      process.execPath,
      ['packages/cli/bin/castellan.js', 'run', module, '--request-path', request],
      tree,
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ allowed: false });
  });
});
