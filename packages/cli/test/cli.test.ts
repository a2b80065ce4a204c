import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataPath, policyPath, reviewPath } from '../../../test/fixtures/index.js';
import type { BenchReport } from '../src/commands/bench.js';
import { castellan } from './castellan-process.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'castellan-cli-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('castellan run', () => {
  it('prints exactly one AdmissionResponse JSON document and exits 0 on a denial', async () => {
    const result = await castellan(
      'run',
      policyPath('pod-privileged'),
      '--request-path',
      reviewPath('privileged-pod-default'),
    );
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toEqual({
      uid: '1299d386-525b-4032-98ae-1949f69f9cfc',
      allowed: false,
      status: { message: 'Privileged container is not allowed' },
      auditAnnotations: null,
      warnings: null,
    });
  });

  it('accepts a file:// URL, settings from a file, and a full AdmissionReview', async () => {
    const settings = join(scratch, 'settings.yml');
    await writeFile(settings, 'labels:\n  - app\n');
    const result = await castellan(
      'run',
      `file://${policyPath('required-labels')}`,
      '-s',
      settings,
      '-r',
      reviewPath('req_for_secure_pod_images'),
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      allowed: false,
      status: { message: 'missing required labels: app' },
    });
  });

  it('exits non-zero with the policy’s own message when settings are invalid', async () => {
    const result = await castellan(
      'run',
      policyPath('required-labels'),
      '--settings-json',
      '{"labels": 3}',
      '-r',
      reviewPath('privileged-pod-default'),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'castellan: Provided settings are not valid: labels must be a list of strings\n',
    );
  });

  it('reports a missing module, a malformed module and a bad flag in one line each', async () => {
    const missing = await castellan(
      'run',
      join(scratch, 'absent.wasm'),
      '-r',
      reviewPath('privileged-pod-default'),
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^castellan: cannot read policy module .*absent\.wasm: no such file\n$/);
    const malformed = await castellan(
      'run',
      policyPath('not-wasm'),
      '-r',
      reviewPath('privileged-pod-default'),
    );
    expect(malformed.stderr).toMatch(/^castellan: invalid wasm file: .*magic bytes.*\n$/);
    const badMode = await castellan(
      'run',
      policyPath('accept'),
      '-e',
      'lua',
      '-r',
      reviewPath('privileged-pod-default'),
    );
    expect(badMode.code).not.toBe(0);
    expect(badMode.stderr).toMatch(/use one of kubewarden-wapc, opa, gatekeeper, wasi/);
  });

  it('inspects an unannotated Rego module given its execution mode, as the refusal suggests', async () => {
    const refused = await castellan('inspect', policyPath('rego-opa'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/give its execution mode \(opa or gatekeeper\)/);
    const inspected = await castellan('inspect', policyPath('rego-opa'), '-e', 'opa', '-o', 'json');
    expect(inspected.code).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ executionMode: 'opa', annotated: false });
  });

  it('reports a registry port out of range in one line, for pull, push and run alike', async () => {
    const reference = 'registry://127.0.0.1:99999/policies/a:v1';
    const answers = [
      await castellan('pull', reference),
      await castellan('push', policyPath('accept'), reference),
      await castellan('run', reference, '-r', reviewPath('privileged-pod-default')),
    ];
    for (const answer of answers) {
      expect(answer.code).toBe(1);
      expect(answer.stderr).toMatch(
        /^castellan: invalid OCI reference "127\.0\.0\.1:99999\/policies\/a:v1": port 99999 is not between 1 and 65535\n$/m,
      );
      expect(answer.stderr).not.toMatch(/unexpected failure|\n\s+at /);
    }
  });

  it('answers an endless loop with the deadline decision', async () => {
    const result = await castellan(
      'run',
      policyPath('endless-loop'),
      '--timeout',
      '0.5',
      '-r',
      reviewPath('privileged-pod-default'),
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      allowed: false,
      status: {
        code: 500,
        message: 'Policy execution interrupted because it exceeded the allowed execution time',
      },
    });
  });
});

describe('castellan annotate and inspect', () => {
  it('annotates a module that inspect then reports as protocol v1', async () => {
    const out = join(scratch, 'annotated.wasm');
    const annotate = await castellan(
      'annotate',
      policyPath('pod-privileged'),
      '-m',
      metadataPath('pod-privileged'),
      '-o',
      out,
    );
    expect(annotate.code).toBe(0);
    expect((await readFile(out)).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    const inspect = await castellan('inspect', out, '-o', 'json');
    expect(inspect.code).toBe(0);
    const report = JSON.parse(inspect.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      executionMode: 'kubewarden-wapc',
      protocolVersion: 'v1',
      annotated: true,
    });
    expect(report['sha256']).toMatch(/^[0-9a-f]{64}$/);
    const text = await castellan('inspect', out);
    expect(text.stdout).toMatch(/protocol version {2}v1/);
  });
});

/** Runs `castellan bench` on a test policy with a JSON report; fails unless it exits 0. */
async function benchReport(policy: string, ...flags: string[]): Promise<BenchReport> {
  const result = await castellan(
    'bench',
    policyPath(policy),
    '-r',
    reviewPath('privileged-pod-default'),
    '--warm-up',
    '0.1',
    '-o',
    'json',
    ...flags,
  );
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as BenchReport;
}

describe('castellan bench', () => {
  it('reports latency and throughput as JSON, on the worker threads asked for', async () => {
    const report = await benchReport('accept', '--duration', '0.3', '--workers', '2');
    expect(report.workers).toBe(2);
    expect(report.latency.samples).toBeGreaterThan(10);
    expect(report.latency.p99Micros).toBeGreaterThan(0);
    expect(report.throughput.evaluations).toBeGreaterThan(10);
  });

  it('measures without a warm-up when asked to, and wants a whole number of evaluations in flight', async () => {
    const report = await benchReport('accept', '--duration', '0.2', '--warm-up', '0');
    expect(report.latency.samples).toBeGreaterThan(10);
    const fractional = await castellan(
      'bench',
      policyPath('accept'),
      '-r',
      reviewPath('privileged-pod-default'),
      '--concurrency',
      '2.5',
    );
    expect(fractional.code).not.toBe(0);
    expect(fractional.stderr).toMatch(/--concurrency.*must be a positive integer/);
  });

  it('finishes with a report on an endless loop, whose overruns mark it heavy, on its one worker', async () => {
    const report = await benchReport('endless-loop', '--timeout', '0.5', '--duration', '1');
    expect(report.workers).toBe(1);
    expect(report.latency.samples).toBeGreaterThan(0);
    expect(report.throughput.evaluations).toBeGreaterThan(0);
  }, 40_000);
});

describe('--help', () => {
  it.each(['run', 'bench', 'inspect', 'annotate', 'pull', 'push', 'policies', 'rm'])(
    'documents %s',
    async (command) => {
      const result = await castellan(command, '--help');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`Usage: castellan ${command}`));
    },
  );
});
