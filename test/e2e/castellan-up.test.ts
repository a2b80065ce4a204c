import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { prepareLocalBus } from '@castellan/bus-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyPath } from '../fixtures/index.js';
import { requireBinary } from '../harness/binaries.js';
import { freeLoopbackPort, startProcess } from '../harness/processes.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(repo, 'packages/cli/bin/castellan.js');
const MODULES = ['pod-privileged', 'required-labels'];
/** A waPC module without metadata: fetched and published fine, refused by the evaluator. */
const UNANNOTATED = 'accept';

interface PoliciesFileOptions {
  podPrivilegedMode?: 'protect' | 'monitor';
  /** The labels setting of required-labels: a list is valid, a string is not. */
  labels?: string;
  /** More policies, as YAML lines. */
  extra?: string[];
}

/** The policies file, its modules beside it: `up` lets the fetcher read only that directory. */
function policiesFile(dir: string, options: PoliciesFileOptions = {}): string {
  const { podPrivilegedMode = 'protect', labels = '[team]', extra = [] } = options;
  return [
    'pod-privileged:',
    `  module: file://${join(dir, 'pod-privileged.wasm')}`,
    `  policyMode: ${podPrivilegedMode}`,
    'required-labels:',
    `  module: file://${join(dir, 'required-labels.wasm')}`,
    `  settings: {labels: ${labels}}`,
    ...extra,
    '',
  ].join('\n');
}

interface Verdict {
  status: number;
  allowed: boolean | undefined;
  uid: string | undefined;
  message?: string | undefined;
}

/** The message pod-privileged denies a privileged pod with. */
const PRIVILEGED_DENIED = 'Privileged container is not allowed';

const review = (name: string) => readFile(join(repo, 'examples/requests', `${name}.json`));

/** A `castellan up` process as a user runs it, stdout and stderr together. */
interface UpProcess {
  up: ChildProcess;
  /** Everything up printed so far. */
  output: () => string;
  /** When up printed last, and when it exited (ms since the epoch). */
  lastPrintedAt: () => number;
  /** Resolves when up exits, with its code (null: a signal) and the time. */
  exited: Promise<{ code: number | null; signal: string | null; at: number }>;
  /** Polls `check` until it returns a value; fails with what up printed when `timeoutMs` runs out. */
  waitFor: <T>(
    what: string,
    check: () => T | undefined | Promise<T | undefined>,
    timeoutMs?: number,
  ) => Promise<T>;
}

function spawnUp(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): UpProcess {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.env?.NATS_URL === undefined) delete env.NATS_URL;
  const up = spawn(process.execPath, [cli, 'up', ...args], {
    env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let lastPrintedAt = 0;
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    lastPrintedAt = Date.now();
  };
  up.stdout?.on('data', collect);
  up.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    up.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );

  const waitFor = async <T>(
    what: string,
    check: () => T | undefined | Promise<T | undefined>,
    timeoutMs = 30_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (up.exitCode !== null || up.signalCode !== null || Date.now() > deadline)
        throw new Error(`${what}: not within ${timeoutMs / 1000} s; castellan up printed:\n${output}`);
      await sleep(100);
    }
  };
  return { up, output: () => output, lastPrintedAt: () => lastPrintedAt, exited, waitFor };
}

/** Resolves with how up ended, or fails saying it still runs after `timeoutMs`. */
async function exitOf(process: UpProcess, timeoutMs: number) {
  const timedOut = sleep(timeoutMs).then(() => undefined);
  const exit = await Promise.race([process.exited, timedOut]);
  if (!exit)
    throw new Error(`castellan up still runs after ${timeoutMs / 1000} s; it printed:\n${process.output()}`);
  return exit;
}

/** A `castellan up` started as a user would, with its policies file and modules in a temp dir. */
interface UpSession extends UpProcess {
  dir: string;
  port: number;
  readinessPort: number;
  stateDir: string;
  validate: (policyId: string, body: Buffer) => Promise<Verdict>;
}

interface SessionOptions {
  policies?: PoliciesFileOptions;
  /** More arguments of `castellan up`, given the session's dir. */
  args?: (dir: string) => string[];
  /** Reuse these (a second up on the same state dir and ports). */
  reuse?: Pick<UpSession, 'dir' | 'port' | 'readinessPort'>;
}

async function startUp(options: SessionOptions = {}): Promise<UpSession> {
  const dir = options.reuse?.dir ?? (await mkdtemp(join(tmpdir(), 'castellan-up-')));
  if (!options.reuse) {
    for (const name of MODULES) {
      await copyFile(join(repo, 'examples/build', `${name}.wasm`), join(dir, `${name}.wasm`));
    }
    await copyFile(policyPath(UNANNOTATED), join(dir, `${UNANNOTATED}.wasm`));
    await writeFile(join(dir, 'policies.yml'), policiesFile(dir, options.policies));
  }
  const port = options.reuse?.port ?? (await freeLoopbackPort());
  const readinessPort = options.reuse?.readinessPort ?? (await freeLoopbackPort());
  const stateDir = join(dir, 'state');
  const process = spawnUp([
    '--policies',
    join(dir, 'policies.yml'),
    '--port',
    String(port),
    '--readiness-port',
    String(readinessPort),
    '--state-dir',
    stateDir,
    '--workers',
    '1',
    ...(options.args?.(dir) ?? []),
  ]);
  await process.waitFor(
    'castellan up starts',
    () => (process.output().includes('Castellan is up') ? true : undefined),
    60_000,
  );
  const ca = await readFile(join(stateDir, 'tls/ca.pem'), 'utf8');

  const validate = (policyId: string, body: Buffer): Promise<Verdict> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: `/validate/${policyId}`,
          method: 'POST',
          ca,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => {
            const answer = JSON.parse(text) as {
              response?: { allowed?: boolean; uid?: string; status?: { message?: string } };
            };
            resolve({
              status: res.statusCode ?? 0,
              allowed: answer.response?.allowed,
              uid: answer.response?.uid,
              message: answer.response?.status?.message,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { ...process, dir, port, readinessPort, stateDir, validate };
}

/** Stops an up still running (a failed test), kills what it leaves behind, removes its files. */
async function cleanUp(session: UpSession | undefined, removeDir = true): Promise<void> {
  if (!session) return;
  const left = await descendants(session.up.pid ?? 0);
  if (session.up.exitCode === null && session.up.signalCode === null) {
    session.up.kill('SIGINT');
    await Promise.race([session.exited, sleep(20_000)]);
    if (session.up.exitCode === null) session.up.kill('SIGKILL');
  }
  for (const pid of left) if (await isRunning(pid)) process.kill(pid, 'SIGKILL');
  if (removeDir) await rm(session.dir, { recursive: true, force: true });
}

/** The live (not zombie) processes below `root`, its children's children included, read from /proc. */
async function descendants(root: number, command = /./): Promise<number[]> {
  const children = new Map<number, { pid: number; cmdline: string }[]>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // After the command name in parentheses (which may hold spaces): state, then parent pid.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === undefined || state === 'Z') continue;
    const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    const siblings = children.get(Number(ppid)) ?? [];
    siblings.push({ pid: Number(name), cmdline });
    children.set(Number(ppid), siblings);
  }
  const found: number[] = [];
  const queue = [root];
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const child of children.get(parent) ?? []) {
      if (command.test(child.cmdline)) found.push(child.pid);
      queue.push(child.pid);
    }
  }
  return found;
}

async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Resolves once none of `pids` runs; fails naming those left after `timeoutMs`. */
async function allGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running: number[] = [];
    for (const pid of pids) if (await isRunning(pid)) running.push(pid);
    if (running.length === 0) return;
    if (Date.now() > deadline) {
      const commands = await Promise.all(
        running.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '?')),
      );
      throw new Error(
        `still running ${timeoutMs / 1000} s later: ${commands.map((c, i) => `${running[i]} ${c.replaceAll('\0', ' ')}`).join('; ')}`,
      );
    }
    await sleep(100);
  }
}

describe('castellan up (real nats-server, services as processes, HTTPS)', () => {
  let session: UpSession;
  let sourcesDir: string;
  /** Serves the modules of the policy `from-web` once a test starts it. */
  let webServer: Server | undefined;
  let webPort: number;
  const extra = () => [
    'unannotated:',
    `  module: ./${UNANNOTATED}.wasm`,
    'from-web:',
    `  module: http://127.0.0.1:${webPort}/pod-privileged.wasm`,
  ];

  beforeAll(async () => {
    webPort = await freeLoopbackPort();
    sourcesDir = await mkdtemp(join(tmpdir(), 'castellan-up-sources-'));
    await writeFile(join(sourcesDir, 'sources.yml'), 'insecure_sources: ["127.0.0.1:5000"]\n');
    session = await startUp({
      policies: { extra: extra() },
      args: () => ['--sources-path', join(sourcesDir, 'sources.yml')],
    });
  }, 90_000);

  afterAll(async () => {
    await cleanUp(session);
    await new Promise((resolve) => (webServer ? webServer.close(resolve) : resolve(undefined)));
    await rm(sourcesDir, { recursive: true, force: true });
  });

  it('prints the gateway URL, the CA path and a curl example', () => {
    const output = session.output();
    expect(output).toContain(`Gateway: https://127.0.0.1:${session.port}`);
    expect(output).toContain(join(session.dir, 'state/tls/ca.pem'));
    expect(output).toContain('curl --cacert');
    // The request file is named by its absolute path: the line works from any directory.
    expect(output).toContain(`--data @${join(repo, 'examples/requests/privileged-pod.json')} `);
  });

  it('says which revision the evaluator loaded and which it refused, before it says it is up', () => {
    const output = session.output();
    const beforeUp = output.slice(0, output.indexOf('Castellan is up'));
    expect(beforeUp).toMatch(/^✓ pod-privileged: revision \d+ loaded by the evaluator$/m);
    expect(beforeUp).toMatch(/^✓ required-labels: revision \d+ loaded by the evaluator$/m);
    expect(beforeUp).toMatch(
      /^✗ unannotated: revision \d+ refused by the evaluator: Policy is missing protocol version.*; it denies every request until fixed$/m,
    );
    // A publish alone is no ✓: the evaluator may still refuse what was published.
    expect(output).not.toMatch(/^✓ [\w-]+: (created|updated|unchanged)/m);
    expect(output).toContain('2 policies could not be loaded (see ✗ above)');
  });

  it('gives the fetcher the sources file of --sources-path', async () => {
    const [fetcher] = await descendants(session.up.pid ?? 0, /\/fetcher\/dist\/main\.js/);
    const environ = await readFile(`/proc/${fetcher}/environ`, 'utf8');
    expect(environ.split('\0')).toContain(`CASTELLAN_SOURCES_PATH=${join(sourcesDir, 'sources.yml')}`);
  });

  it('answers admission reviews with each policy verdict, echoing the uid', async () => {
    const { validate } = session;
    const privileged = await review('privileged-pod');
    const plain = await review('unprivileged-pod');
    expect(await validate('pod-privileged', privileged)).toMatchObject({
      status: 200,
      allowed: false,
      uid: '1299d386-525b-4032-98ae-1949f69f9cfc',
    });
    expect((await validate('pod-privileged', plain)).allowed).toBe(true);
    expect((await validate('required-labels', privileged)).allowed).toBe(false);
    expect((await validate('required-labels', plain)).allowed).toBe(true);
    expect((await validate('no-such-policy', plain)).status).toBe(404);
  });

  it('publishes a policy again once its unreachable web server answers, the file untouched', async () => {
    expect(session.output()).toMatch(/^✗ from-web: cannot reach 127\.0\.0\.1:\d+/m);
    await session.waitFor(
      'a retry of from-web',
      () =>
        /… policies {3}from-web: module source or fetcher out of reach; publishing again in/.exec(
          session.output(),
        ) ?? undefined,
    );
    const module = await readFile(join(session.dir, 'pod-privileged.wasm'));
    const server = createServer((_req, res) => res.end(module));
    webServer = server;
    await new Promise<void>((resolve) => server.listen(webPort, '127.0.0.1', resolve));
    // The retries back off to 10 s at most.
    await session.waitFor(
      'from-web loaded',
      () => /^✓ from-web: revision \d+ loaded by the evaluator$/m.exec(session.output()) ?? undefined,
    );
    const verdict = await session.validate('from-web', await review('privileged-pod'));
    expect(verdict).toMatchObject({ status: 200, allowed: false, message: PRIVILEGED_DENIED });
  }, 60_000);

  it('rolls an edit of the policies file out live, every request answered meanwhile', async () => {
    const { dir, validate } = session;
    const privileged = await review('privileged-pod');
    await writeFile(
      join(dir, 'policies.yml'),
      policiesFile(dir, { podPrivilegedMode: 'monitor', extra: extra() }),
    );
    const deadline = Date.now() + 30_000;
    let verdict: Verdict;
    do {
      verdict = await validate('pod-privileged', privileged);
      expect(verdict.status).toBe(200);
      if (verdict.allowed) break;
      await sleep(100);
    } while (Date.now() < deadline);
    expect(verdict.allowed).toBe(true);
    // Printed once the whole publish returns, which can be after evaluators load the revision.
    const [, revision] = await session.waitFor(
      'the rollout reported',
      () => /pod-privileged: updated, revision (\d+)/.exec(session.output()) ?? undefined,
    );
    await session.waitFor(
      'the new revision reported loaded',
      () =>
        session.output().includes(`✓ pod-privileged: revision ${revision} loaded by the evaluator`) ||
        undefined,
    );
  });

  it('says so when the evaluator refuses settings, and the policy then denies every request', async () => {
    const { dir, validate } = session;
    const policies = join(dir, 'policies.yml');
    const plain = await review('unprivileged-pod');
    const since = session.output().length;
    await writeFile(
      policies,
      policiesFile(dir, { podPrivilegedMode: 'monitor', labels: 'team', extra: extra() }),
    );
    const [, refused] = await session.waitFor(
      'the refusal reported',
      () =>
        /^✗ required-labels: revision (\d+) refused by the evaluator: Policy settings are invalid: labels must be a list of strings; it denies every request until fixed$/m.exec(
          session.output().slice(since),
        ) ?? undefined,
    );
    // The refused revision replaced the one that loaded: a pod it allowed is denied, naming why.
    // Until the gateway routes to it, the revision before answers (and may deny too, for its own reason).
    const denied = await session.waitFor('the refused revision answers', async () => {
      const verdict = await validate('required-labels', plain);
      return verdict.message?.includes('Policy settings are invalid') ? verdict : undefined;
    });
    expect(denied.allowed).toBe(false);

    await writeFile(policies, policiesFile(dir, { podPrivilegedMode: 'monitor', extra: extra() }));
    const [, fixed] = await session.waitFor(
      'the fix reported loaded',
      () =>
        /^✓ required-labels: revision (\d+) loaded by the evaluator$/m.exec(
          session.output().slice(session.output().indexOf(`revision ${refused} refused`)),
        ) ?? undefined,
    );
    expect(Number(fixed)).toBeGreaterThan(Number(refused));
  }, 60_000);

  it('stops everything cleanly on Ctrl-C', async () => {
    const { up } = session;
    const processes = await descendants(up.pid ?? 0);
    up.kill('SIGINT');
    expect((await exitOf(session, 30_000)).code).toBe(0);
    await allGone(processes, 5_000);
    await expect(session.validate('pod-privileged', await review('privileged-pod'))).rejects.toThrow(
      /ECONNREFUSED/,
    );
    expect(await readdir(session.stateDir)).not.toContain('up.lock');
  }, 40_000);
});

describe('castellan up supervises its services (processes killed with SIGKILL)', () => {
  let session: UpSession;
  const EVALUATOR = /\/evaluator\/dist\/main\.js/;
  const NATS_SERVER = /^\S*nats-server /;

  /** The pid of up's one live process running `command` (nats-server runs under its tether). */
  const processOf = async (what: string, command: RegExp, not?: number) =>
    session.waitFor(`a running ${what}`, async () =>
      (await descendants(session.up.pid ?? 0, command)).find((pid) => pid !== not),
    );
  /** Asks until the gateway answers the privileged pod's review as `expected` says. */
  const verdictOfPrivilegedPod = async (
    what: string,
    expected: (verdict: Verdict) => boolean,
    timeoutMs?: number,
  ) => {
    const privileged = await review('privileged-pod');
    return session.waitFor(
      what,
      async () => {
        const verdict = await session.validate('pod-privileged', privileged).catch(() => undefined);
        return verdict && expected(verdict) ? verdict : undefined;
      },
      timeoutMs,
    );
  };

  /** The one line up prints when a child dies. */
  const restartNotice = (service: string) =>
    session.waitFor(
      `the notice that the ${service} restarts`,
      () =>
        new RegExp(
          `castellan: the ${service} stopped unexpectedly \\(signal SIGKILL\\); restarting in [\\d.]+ s\\n`,
        ).exec(session.output())?.[0],
    );

  beforeAll(async () => {
    session = await startUp();
  }, 90_000);

  afterAll(() => cleanUp(session));

  it('restarts a killed evaluator with the same bus access, and verdicts are served again', async () => {
    const evaluator = await processOf('evaluator', EVALUATOR);
    process.kill(evaluator, 'SIGKILL');
    await restartNotice('evaluator');
    await processOf('new evaluator', EVALUATOR, evaluator);
    // Only an evaluator gives this verdict: a gateway without one answers by failure policy.
    const verdict = await verdictOfPrivilegedPod('the new evaluator denies a privileged pod', (v) =>
      Boolean(v.message?.includes(PRIVILEGED_DENIED)),
    );
    expect(verdict).toMatchObject({ status: 200, allowed: false });
  }, 90_000);

  it('restarts a killed nats-server on the same port and publishes an edit saved while it was down', async () => {
    const { dir } = session;
    const nats = await processOf('nats-server', NATS_SERVER);
    process.kill(nats, 'SIGKILL');
    await session.waitFor('the killed nats-server ends', async () =>
      (await isRunning(nats)) ? undefined : true,
    );
    // pod-privileged in monitor mode allows what it denied.
    const policies = join(dir, 'policies.yml');
    await writeFile(policies, policiesFile(dir, { podPrivilegedMode: 'monitor' }));
    const savedAt = (await stat(policies)).mtimeMs;
    await restartNotice('nats-server');
    const restarted = await processOf('new nats-server', NATS_SERVER, nats);
    // The services were given this URL once: the new server must listen on it.
    const portsFile = join(dir, 'state/nats', `nats-server_${restarted}.ports`);
    const ports = await session.waitFor('the ports file of the new nats-server', () =>
      readFile(portsFile, 'utf8').then(
        (text) => (text.endsWith('}') ? (JSON.parse(text) as { nats: string[] }) : undefined),
        () => undefined,
      ),
    );
    // Up waits 0.5 s before restarting NATS: the edit was saved while no server was there.
    expect(savedAt).toBeLessThan((await stat(portsFile)).mtimeMs);
    expect(session.output()).toContain(`✓ NATS       ${ports.nats[0]} (local`);
    const verdict = await verdictOfPrivilegedPod(
      'the services reconnect and the edit made while NATS was down rolls out',
      (v) => v.allowed === true,
      60_000,
    );
    expect(verdict).toMatchObject({ status: 200, allowed: true });
    // Printed once the whole publish returns, which can be after evaluators load the revision.
    await session.waitFor(
      'the rollout reported',
      () =>
        /pod-privileged: updated, revision \d+/.exec(
          session.output().slice(session.output().indexOf('nats-server stopped')),
        ) ?? undefined,
    );
  }, 120_000);

  it('restarts nothing once Ctrl-C stops it, and leaves no process behind', async () => {
    const { up } = session;
    // The fetcher, the evaluator, the gateway, nats-server and its tether.
    const processes = await descendants(up.pid ?? 0);
    expect(processes.length).toBe(5);
    up.kill('SIGINT');
    const { code } = await exitOf(session, 30_000);
    expect(code, session.output()).toBe(0);
    const afterStop = session.output().slice(session.output().indexOf('stopping…'));
    expect(afterStop).not.toMatch(/restarting in/);
    await allGone(processes, 5_000);
  }, 60_000);
});

describe('castellan up owns its state dir, and its processes end with it', () => {
  let first: UpSession;
  let next: UpSession | undefined;

  beforeAll(async () => {
    first = await startUp();
  }, 90_000);

  afterAll(async () => {
    await cleanUp(first, false);
    await cleanUp(next);
  });

  it('refuses a second up on the same state dir at once, naming the first, which goes on', async () => {
    const second = spawnUp([
      '--policies',
      join(first.dir, 'policies.yml'),
      '--port',
      String(await freeLoopbackPort()),
      '--readiness-port',
      String(await freeLoopbackPort()),
      '--state-dir',
      first.stateDir,
    ]);
    const { code } = await exitOf(second, 15_000);
    expect(code).toBe(1);
    expect(second.output()).toBe(
      `castellan: another castellan up (pid ${first.up.pid}) is running on ${first.stateDir}: stop it, or give this one its own --state-dir\n`,
    );
    const verdict = await first.validate('pod-privileged', await review('privileged-pod'));
    expect(verdict).toMatchObject({ status: 200, allowed: false, message: PRIVILEGED_DENIED });
  }, 30_000);

  it('takes all its processes along when killed with -9; the next up takes over its state dir and ports', async () => {
    const processes = await descendants(first.up.pid ?? 0);
    expect(processes.length).toBe(5);
    first.up.kill('SIGKILL');
    await allGone(processes, 15_000);
    // Its lock names a dead pid: taken over.
    expect(await readdir(first.stateDir)).toContain('up.lock');
    next = await startUp({ reuse: first });
    const verdict = await next.validate('pod-privileged', await review('privileged-pod'));
    expect(verdict).toMatchObject({ status: 200, allowed: false });
  }, 90_000);

  it('stops in order when its terminal closes (SIGHUP), leaving nothing behind', async () => {
    const session = next!;
    const processes = await descendants(session.up.pid ?? 0);
    expect(processes.length).toBe(5);
    session.up.kill('SIGHUP');
    const { code } = await exitOf(session, 30_000);
    expect(code, session.output()).toBe(0);
    expect(session.output()).toContain('stopping…');
    await allGone(processes, 5_000);
    expect(await readdir(session.stateDir)).not.toContain('up.lock');
  }, 40_000);
});

describe('castellan up checks what it is given before it starts anything', () => {
  let dir: string;
  let stateDir: string;
  let policies: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'castellan-up-fail-'));
    stateDir = join(dir, 'state');
    policies = join(dir, 'policies.yml');
    await copyFile(join(repo, 'examples/build/pod-privileged.wasm'), join(dir, 'pod-privileged.wasm'));
    await writeFile(policies, 'p: {module: ./pod-privileged.wasm}\n');
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Runs up to its end: one line, exit 1 right after it, nothing started. Returns the line. */
  async function failure(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
    const run = spawnUp(['--state-dir', stateDir, ...args], options);
    const exit = await exitOf(run, 15_000);
    const output = run.output();
    expect(exit.code, output).toBe(1);
    expect(exit.at - run.lastPrintedAt(), 'from the error printed to the exit (ms)').toBeLessThan(1000);
    expect(output).not.toMatch(/✓ NATS|✓ services|\n\s+at /);
    expect(await descendants(run.up.pid ?? 0)).toEqual([]);
    return output;
  }
  const ports = async () => [
    '--port',
    String(await freeLoopbackPort()),
    '--readiness-port',
    String(await freeLoopbackPort()),
  ];

  it('no policies.yml in the working directory and no --policies: says how to give one', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    expect(await failure(await ports(), { cwd: empty })).toBe(
      'castellan: no policies.yml here: give one with --policies <file> (examples/policies.yml is a start)\n',
    );
  });

  it('a policies file that is not YAML', async () => {
    const broken = join(dir, 'broken.yml');
    await writeFile(broken, 'p:\n  module: [\n');
    expect(await failure(['--policies', broken, ...(await ports())])).toMatch(
      new RegExp(`^castellan: ${broken}: not valid YAML`),
    );
  });

  it('a port in use', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const readiness = String(await freeLoopbackPort());
      expect(
        await failure(['--policies', policies, '--port', String(port), '--readiness-port', readiness]),
      ).toBe(
        `castellan: port ${port} (--port) is in use on 127.0.0.1: stop what uses it, or choose another with --port\n`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('a --sources-path that does not exist', async () => {
    const missing = join(dir, 'sources.yml');
    expect(await failure(['--policies', policies, '--sources-path', missing, ...(await ports())])).toMatch(
      new RegExp(`^castellan: --sources-path: cannot read sources file ${missing}: ENOENT[^\\n]*\\n$`),
    );
  });

  it('a NATS_URL where no server listens', async () => {
    const url = `tls://127.0.0.1:${await freeLoopbackPort()}`;
    expect(await failure(['--policies', policies, ...(await ports())], { env: { NATS_URL: url } })).toBe(
      `castellan: cannot connect to NATS_URL ${url} (connection refused): start it, or unset NATS_URL and castellan up runs its own\n`,
    );
  });

  it('a NATS_URL whose server has no JetStream', async () => {
    // The server trusts the bus of this state dir, as one given by NATS_URL must.
    const bus = await prepareLocalBus(join(stateDir, 'bus'));
    const natsPort = await freeLoopbackPort();
    const config = join(dir, 'no-jetstream.conf');
    await writeFile(config, [`listen: "127.0.0.1:${natsPort}"`, bus.serverConfig].join('\n'));
    const server = startProcess(await requireBinary('nats-server'), ['-c', config]);
    try {
      const deadline = Date.now() + 10_000;
      while (!server.output().includes('Server is ready')) {
        if (Date.now() > deadline || server.child.exitCode !== null)
          throw new Error(`nats-server did not start:\n${server.output()}`);
        await sleep(25);
      }
      const url = `tls://127.0.0.1:${natsPort}`;
      expect(await failure(['--policies', policies, ...(await ports())], { env: { NATS_URL: url } })).toBe(
        `castellan: NATS_URL ${url} has no JetStream, which holds the policies and modules: start it with -js, or unset NATS_URL and castellan up runs its own\n`,
      );
    } finally {
      await server.stop();
    }
  });
});
