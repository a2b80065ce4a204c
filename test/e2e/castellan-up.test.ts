import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../harness/processes.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(repo, 'packages/cli/bin/castellan.js');
const MODULES = ['pod-privileged', 'required-labels'];

/** The policies file, its modules beside it: `up` lets the fetcher read only that directory. */
function policiesFile(dir: string, podPrivilegedMode: 'protect' | 'monitor'): string {
  return [
    'pod-privileged:',
    `  module: file://${join(dir, 'pod-privileged.wasm')}`,
    `  policyMode: ${podPrivilegedMode}`,
    'required-labels:',
    `  module: file://${join(dir, 'required-labels.wasm')}`,
    '  settings: {labels: [team]}',
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

/** A `castellan up` started as a user would, with its policies file and modules in a temp dir. */
interface UpSession {
  dir: string;
  up: ChildProcess;
  port: number;
  /** Everything up printed so far, stdout and stderr. */
  output: () => string;
  validate: (policyId: string, body: Buffer) => Promise<Verdict>;
  /** Polls `check` until it returns a value; fails with what up printed when `timeoutMs` runs out. */
  waitFor: <T>(
    what: string,
    check: () => T | undefined | Promise<T | undefined>,
    timeoutMs?: number,
  ) => Promise<T>;
}

async function startUp(): Promise<UpSession> {
  const dir = await mkdtemp(join(tmpdir(), 'castellan-up-'));
  for (const name of MODULES) {
    await copyFile(join(repo, 'examples/build', `${name}.wasm`), join(dir, `${name}.wasm`));
  }
  await writeFile(join(dir, 'policies.yml'), policiesFile(dir, 'protect'));
  const port = await freeLoopbackPort();
  const readinessPort = await freeLoopbackPort();
  const env = { ...process.env };
  delete env.NATS_URL;
  const up = spawn(
    process.execPath,
    [
      cli,
      'up',
      '--policies',
      join(dir, 'policies.yml'),
      '--port',
      String(port),
      '--readiness-port',
      String(readinessPort),
      '--state-dir',
      join(dir, 'state'),
      '--workers',
      '1',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  up.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  up.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const waitFor = async <T>(
    what: string,
    check: () => T | undefined | Promise<T | undefined>,
    timeoutMs = 30_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (up.exitCode !== null || Date.now() > deadline)
        throw new Error(`${what}: not within ${timeoutMs / 1000} s; castellan up printed:\n${output}`);
      await sleep(100);
    }
  };
  await waitFor('castellan up starts', () => (output.includes('Castellan is up') ? true : undefined), 60_000);
  const ca = await readFile(join(dir, 'state/tls/ca.pem'), 'utf8');

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
  return { dir, up, port, output: () => output, validate, waitFor };
}

/** Stops a session still running (a failed test) and removes its files. */
async function cleanUp(session: UpSession | undefined): Promise<void> {
  if (!session) return;
  if (session.up.exitCode === null && session.up.signalCode === null) {
    const exited = new Promise((resolve) => session.up.once('exit', resolve));
    session.up.kill('SIGINT');
    await Promise.race([exited, sleep(20_000)]);
    if (session.up.exitCode === null) session.up.kill('SIGKILL');
  }
  await rm(session.dir, { recursive: true, force: true });
}

/** Live (not zombie) children of `parent` whose command line matches, read from /proc. */
async function childProcesses(parent: number, command: RegExp): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // After the command name in parentheses (which may hold spaces): state, then parent pid.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) !== parent || state === 'Z') continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (command.test(cmdline.replaceAll('\0', ' '))) pids.push(Number(name));
  }
  return pids;
}

async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

describe('castellan up (real nats-server, services as processes, HTTPS)', () => {
  let session: UpSession;

  beforeAll(async () => {
    session = await startUp();
  }, 90_000);

  afterAll(() => cleanUp(session));

  it('prints the gateway URL, the CA path and a curl example', () => {
    const output = session.output();
    expect(output).toContain(`Gateway: https://127.0.0.1:${session.port}`);
    expect(output).toContain(join(session.dir, 'state/tls/ca.pem'));
    expect(output).toContain('curl --cacert');
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

  it('rolls an edit of the policies file out live, every request answered meanwhile', async () => {
    const { dir, validate } = session;
    const privileged = await review('privileged-pod');
    await writeFile(join(dir, 'policies.yml'), policiesFile(dir, 'monitor'));
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
    await session.waitFor('the rollout reported', () =>
      /pod-privileged: updated, revision \d+/.exec(session.output()),
    );
  });

  it('stops everything cleanly on Ctrl-C', async () => {
    const { up } = session;
    const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
    up.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(session.validate('pod-privileged', await review('privileged-pod'))).rejects.toThrow(
      /ECONNREFUSED/,
    );
  }, 30_000);
});

describe('castellan up supervises its services (processes killed with SIGKILL)', () => {
  let session: UpSession;
  const EVALUATOR = /\/evaluator\/dist\/main\.js/;
  const NATS_SERVER = /^\S*nats-server /;

  /** The pid of up's one live child running `command`. */
  const childOf = async (what: string, command: RegExp, not?: number) =>
    session.waitFor(`a running ${what}`, async () =>
      (await childProcesses(session.up.pid ?? 0, command)).find((pid) => pid !== not),
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
    const evaluator = await childOf('evaluator', EVALUATOR);
    process.kill(evaluator, 'SIGKILL');
    await restartNotice('evaluator');
    await childOf('new evaluator', EVALUATOR, evaluator);
    // Only an evaluator gives this verdict: a gateway without one answers by failure policy.
    const verdict = await verdictOfPrivilegedPod('the new evaluator denies a privileged pod', (v) =>
      Boolean(v.message?.includes(PRIVILEGED_DENIED)),
    );
    expect(verdict).toMatchObject({ status: 200, allowed: false });
  }, 90_000);

  it('restarts a killed nats-server on the same port and publishes an edit saved while it was down', async () => {
    const { dir } = session;
    const nats = await childOf('nats-server', NATS_SERVER);
    process.kill(nats, 'SIGKILL');
    await session.waitFor('the killed nats-server ends', async () =>
      (await isRunning(nats)) ? undefined : true,
    );
    // pod-privileged in monitor mode allows what it denied.
    const policies = join(dir, 'policies.yml');
    await writeFile(policies, policiesFile(dir, 'monitor'));
    const savedAt = (await stat(policies)).mtimeMs;
    await restartNotice('nats-server');
    const restarted = await childOf('new nats-server', NATS_SERVER, nats);
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
    await session.waitFor('the rollout reported', () =>
      /pod-privileged: updated, revision \d+/.exec(
        session.output().slice(session.output().indexOf('nats-server stopped')),
      ),
    );
  }, 120_000);

  it('restarts nothing once Ctrl-C stops it, and leaves no process behind', async () => {
    const { up } = session;
    const children = await childProcesses(up.pid ?? 0, /./);
    expect(children.length).toBe(4);
    const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
    up.kill('SIGINT');
    const code = await Promise.race([exited, sleep(30_000).then(() => 'still running after 30 s')]);
    expect(code, session.output()).toBe(0);
    const afterStop = session.output().slice(session.output().indexOf('stopping…'));
    expect(afterStop).not.toMatch(/restarting in/);
    for (const pid of children) expect(await isRunning(pid), `process ${pid}`).toBe(false);
  }, 60_000);
});
