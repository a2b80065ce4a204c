import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
}

describe('castellan up (real nats-server, services as processes, HTTPS)', () => {
  let dir: string;
  let up: ChildProcess;
  let output = '';
  let port: number;
  let ca: string;

  const review = (name: string) => readFile(join(repo, 'examples/requests', `${name}.json`));

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
            const answer = JSON.parse(text) as { response?: { allowed?: boolean; uid?: string } };
            resolve({
              status: res.statusCode ?? 0,
              allowed: answer.response?.allowed,
              uid: answer.response?.uid,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'castellan-up-'));
    for (const name of MODULES) {
      await copyFile(join(repo, 'examples/build', `${name}.wasm`), join(dir, `${name}.wasm`));
    }
    await writeFile(join(dir, 'policies.yml'), policiesFile(dir, 'protect'));
    port = await freeLoopbackPort();
    const readinessPort = await freeLoopbackPort();
    const env = { ...process.env };
    delete env.NATS_URL;
    up = spawn(
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
    up.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    up.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!output.includes('Castellan is up')) {
      if (up.exitCode !== null || Date.now() > deadline)
        throw new Error(`castellan up did not start:\n${output}`);
      await sleep(100);
    }
    ca = await readFile(join(dir, 'state/tls/ca.pem'), 'utf8');
  }, 90_000);

  afterAll(async () => {
    if (up && up.exitCode === null) up.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the gateway URL, the CA path and a curl example', () => {
    expect(output).toContain(`Gateway: https://127.0.0.1:${port}`);
    expect(output).toContain(join(dir, 'state/tls/ca.pem'));
    expect(output).toContain('curl --cacert');
  });

  it('answers admission reviews with each policy verdict, echoing the uid', async () => {
    const privileged = await review('privileged-pod');
    const plain = await review('unprivileged-pod');
    expect(await validate('pod-privileged', privileged)).toEqual({
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
    expect(output).toMatch(/pod-privileged: updated, revision \d+/);
  });

  it('stops everything cleanly on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
    up.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(validate('pod-privileged', await review('privileged-pod'))).rejects.toThrow(/ECONNREFUSED/);
  }, 30_000);
});
