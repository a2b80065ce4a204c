// The README's quick start, as a new user runs it: `npx castellan up --policies examples/policies.yml`
// in the repository, then the curl line it prints, pasted in another terminal in another directory.
// Only the ports (free ones, so the test never meets another server) and HOME (so the default state
// dir is a fresh one) differ from the README.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../harness/processes.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const UP_WITHIN_MS = 60_000;
const STOP_WITHIN_MS = 20_000;

describe("the README's quick start (real CLI, fresh HOME, curl from another directory)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it(
    'starts, prints a curl line that works from anywhere, and stops on Ctrl-C',
    async () => {
      const readme = await readFile(join(repo, 'README.md'), 'utf8');
      expect(readme).toContain('npx castellan up --policies examples/policies.yml');
      const [home, elsewhere] = [
        await mkdtemp(join(tmpdir(), 'castellan-home-')),
        await mkdtemp(join(tmpdir(), 'castellan-elsewhere-')),
      ];
      dirs.push(home, elsewhere);
      const [port, readinessPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
      delete env.NATS_URL;
      delete env.XDG_CACHE_HOME;
      const up = spawn(
        'npx',
        [
          '--no-install',
          'castellan',
          'up',
          '--policies',
          'examples/policies.yml',
          '--port',
          String(port),
          '--readiness-port',
          String(readinessPort),
        ],
        { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      let output = '';
      up.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      up.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      // npx passes Ctrl-C on and ends by it (a terminal shows 130); castellan up itself exits 0.
      const exited = new Promise<string>((resolve) =>
        up.once('exit', (code, signal) =>
          resolve(code === 0 || signal === 'SIGINT' ? 'stopped' : `${code ?? signal}`),
        ),
      );
      try {
        const deadline = Date.now() + UP_WITHIN_MS;
        while (!output.includes('Castellan is up')) {
          if (up.exitCode !== null || Date.now() > deadline)
            throw new Error(`castellan up did not start:\n${output}`);
          await sleep(100);
        }
        expect(output).toContain(join(home, '.cache/castellan/up/tls/ca.pem'));

        // The two lines after "Try it:", as a user pastes them.
        const curl = /Try it:\n(\s+curl[^\n]*\\\n[^\n]*)/.exec(output)?.[1];
        expect(curl, output).toBeDefined();
        const answer = await new Promise<string>((resolve, reject) =>
          execFile('sh', ['-c', curl ?? ''], { cwd: elsewhere, timeout: 10_000 }, (error, stdout, stderr) =>
            error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
          ),
        );
        const review = JSON.parse(answer) as {
          response: { allowed: boolean; status?: { message?: string } };
        };
        expect(review.response.allowed).toBe(false);
        expect(review.response.status?.message).toBe('Privileged container is not allowed');
      } finally {
        if (up.exitCode === null) process.kill(-(up.pid ?? 0), 'SIGINT');
        const ending = await Promise.race([exited, sleep(STOP_WITHIN_MS).then(() => 'still running')]);
        if (ending === 'still running') process.kill(-(up.pid ?? 0), 'SIGKILL');
        expect(ending, output).toBe('stopped');
        expect(output).toContain('stopping');
      }
    },
    UP_WITHIN_MS + STOP_WITHIN_MS + 20_000,
  );
});
