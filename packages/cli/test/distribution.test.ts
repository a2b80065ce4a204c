import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotatedPolicyBytes, policyPath, reviewPath } from '../../../test/fixtures/index.js';
import { startRegistry } from '../../../test/harness/registry.js';
import type { TestRegistry } from '../../../test/harness/registry.js';
import { castellanWith } from './castellan-process.js';

const IMMUTABLE_REFERENCE = /^127\.0\.0\.1:\d+\/[a-z0-9/-]+@sha256:[0-9a-f]{64}\n$/;

let scratch: string;
let storeDir: string;
let annotatedPath: string;
let annotated: Uint8Array;
let plain: TestRegistry;
let secured: TestRegistry;
/** The store in scratch, and an empty Docker config so the host's credentials never leak in. */
let env: Record<string, string>;
/** `--sources-path` of a sources.yml listing the plain-HTTP registry in insecure_sources. */
let plainSources: string[];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'castellan-distribution-'));
  storeDir = join(scratch, 'store');
  annotatedPath = join(scratch, 'pod-privileged.wasm');
  annotated = await annotatedPolicyBytes('pod-privileged');
  await writeFile(annotatedPath, annotated);
  await mkdir(join(scratch, 'no-docker-config'));
  env = { CASTELLAN_STORE_DIR: storeDir, DOCKER_CONFIG: join(scratch, 'no-docker-config') };
  [plain, secured] = await Promise.all([
    startRegistry(),
    startRegistry({ tls: true, auth: { username: 'castellan', password: 's3cret-pass' } }),
  ]);
  const sourcesPath = join(scratch, 'plain-sources.yml');
  await writeFile(sourcesPath, `insecure_sources: ["${plain.host}"]\n`);
  plainSources = ['--sources-path', sourcesPath];
});

afterAll(async () => {
  await Promise.all([plain?.stop(), secured?.stop()]);
  await rm(scratch, { recursive: true, force: true });
});

const run = (...args: string[]) => castellanWith(env, ...args);
/** A command against the plain-HTTP registry, which is reached only when listed as insecure. */
const plainRun = (...args: string[]) => run(...args, ...plainSources);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('castellan push, pull, policies, run, inspect and rm against a registry', () => {
  it('pushes an annotated module and prints its immutable reference', async () => {
    const result = await plainRun(
      'push',
      annotatedPath,
      `registry://${plain.host}/policies/pod-privileged:v1`,
    );
    expect(result.stderr).toMatch(/pushed .* in .* s/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(IMMUTABLE_REFERENCE);
    expect(result.stdout.startsWith(`${plain.host}/policies/pod-privileged@sha256:`)).toBe(true);
  });

  it('refuses an un-annotated module without --force, and an un-annotated Rego module even with it', async () => {
    const target = `registry://${plain.host}/policies/unannotated:v1`;
    const refused = await plainRun('push', policyPath('accept'), target);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^castellan: cannot push .*accept\.wasm: the module is not annotated; .*--force\n$/,
    );
    const rego = await plainRun('push', '--force', policyPath('rego-gatekeeper'), target);
    expect(rego.code).toBe(1);
    expect(rego.stderr).toMatch(/Rego module without metadata, which cannot be pushed even with --force/);
    const forced = await plainRun('push', '--force', policyPath('accept'), target);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/warning: pushing .* which is not annotated/);
    expect(forced.stdout).toMatch(IMMUTABLE_REFERENCE);
  });

  it('pulls into the store, prints the path and digest, and reuses the stored copy', async () => {
    const url = `registry://${plain.host}/policies/pod-privileged:v1`;
    const output = join(scratch, 'pulled.wasm');
    const first = await plainRun('pull', url, '--output', output);
    expect(first.code).toBe(0);
    const stored = join(storeDir, 'registry', plain.host, 'policies', 'pod-privileged:v1');
    expect(first.stdout).toBe(`${stored}\nsha256:${sha256(annotated)}\n`);
    expect(first.stderr).toMatch(new RegExp(`^pulling ${url}\npulled .* in .* s \\(${plain.host}/`));
    expect(new Uint8Array(await readFile(stored))).toEqual(annotated);
    expect(new Uint8Array(await readFile(output))).toEqual(annotated);

    const again = await plainRun('pull', url);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe(`${url} is already in the store, not pulled again\n`);
  });

  it('always pulls :latest again, and stores a schemeless reference as registry://…:latest', async () => {
    const pushed = await plainRun('push', annotatedPath, `registry://${plain.host}/policies/moving`);
    expect(pushed.code).toBe(0);
    for (let attempt = 0; attempt < 2; attempt++) {
      const pulled = await plainRun('pull', `${plain.host}/policies/moving`);
      expect(pulled.code).toBe(0);
      expect(pulled.stderr).toMatch(/^pulling registry:\/\/.*\/policies\/moving:latest\n/);
    }
    await stat(join(storeDir, 'registry', plain.host, 'policies', 'moving:latest'));
  });

  it('pulls a plain http:// URL (the registry serves blobs) under its URL path', async () => {
    const digest = `sha256:${sha256(annotated)}`;
    const url = `http://${plain.host}/v2/policies/pod-privileged/blobs/${digest}`;
    const result = await run('pull', url);
    expect(result.code).toBe(0);
    const stored = join(storeDir, 'http', plain.host, 'v2', 'policies', 'pod-privileged', 'blobs', digest);
    expect(result.stdout).toBe(`${stored}\n${digest}\n`);
  });

  it('lists the store as a table and as JSON', async () => {
    const table = await run('policies');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^URL +SIZE +SHA256 +MODIFIED\n/);
    expect(table.stdout).toContain(`registry://${plain.host}/policies/pod-privileged:v1`);
    const json = await run('policies', '-o', 'json');
    const listed = JSON.parse(json.stdout) as { url: string; sha256: string; size: number }[];
    expect(listed.find((p) => p.url === `registry://${plain.host}/policies/pod-privileged:v1`)).toMatchObject(
      {
        sha256: sha256(annotated),
        size: annotated.byteLength,
      },
    );
  });

  it('runs and inspects a registry:// policy', async () => {
    const url = `registry://${plain.host}/policies/pod-privileged:v1`;
    const verdict = await plainRun('run', url, '-r', reviewPath('privileged-pod-default'));
    expect(verdict.code).toBe(0);
    expect(JSON.parse(verdict.stdout)).toMatchObject({
      allowed: false,
      status: { message: 'Privileged container is not allowed' },
    });
    const inspect = await plainRun('inspect', url, '-o', 'json');
    expect(inspect.code).toBe(0);
    const report = JSON.parse(inspect.stdout) as {
      annotated: boolean;
      metadata: { annotations: Record<string, string> };
    };
    expect(report.annotated).toBe(true);
    expect(report.metadata.annotations['io.kubewarden.policy.title']).toBe('pod-privileged');
  });

  it('removes by URL and by sha256 prefix, refuses a prefix naming two copies, and names an unknown policy', async () => {
    const url = `registry://${plain.host}/policies/pod-privileged:v1`;
    const byUrl = await run('rm', url);
    expect(byUrl.code).toBe(0);
    expect(byUrl.stdout).toBe(`removed ${url}\n`);
    await expect(
      stat(join(storeDir, 'registry', plain.host, 'policies', 'pod-privileged:v1')),
    ).rejects.toThrow();

    // The module is stored twice (a tag and a blob URL): a prefix does not say which copy goes.
    const prefix = sha256(annotated).slice(0, 12);
    const ambiguous = await run('rm', prefix);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/matches 2 stored copies of one module .*moving:latest\): give the URL/);
    const blob = (JSON.parse((await run('policies', '-o', 'json')).stdout) as { url: string }[]).find((p) =>
      p.url.includes('/blobs/'),
    );
    expect((await run('rm', blob?.url ?? 'no blob copy')).code).toBe(0);
    const byDigest = await run('rm', prefix);
    expect(byDigest.code).toBe(0);
    expect(byDigest.stdout).toBe(`removed registry://${plain.host}/policies/moving:latest\n`);
    expect((await run('policies', '-o', 'json')).stdout).not.toContain(sha256(annotated));

    const unknown = await run('rm', url);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /holds no policy .*pod-privileged:v1: `castellan policies` lists what it holds/,
    );
  });

  it('fails a pull from a repository that does not exist, naming it', async () => {
    const result = await plainRun('pull', `registry://${plain.host}/policies/absent:v1`);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^pulling .*\ncastellan: .*policies\/absent/);
  });
});

describe('a TLS registry with basic authentication', () => {
  let flags: string[];

  beforeAll(async () => {
    const dockerConfig = join(scratch, 'docker-config');
    await mkdir(dockerConfig);
    const auth = Buffer.from(`${secured.username}:${secured.password}`).toString('base64');
    await writeFile(
      join(dockerConfig, 'config.json'),
      JSON.stringify({ auths: { [secured.host]: { auth } } }),
    );
    const sourcesPath = join(scratch, 'sources.yml');
    await writeFile(
      sourcesPath,
      `source_authorities:\n  "${secured.host}":\n    - {type: Path, path: ${JSON.stringify(secured.caPath)}}\n`,
    );
    flags = ['--sources-path', sourcesPath, '--docker-config-json-path', dockerConfig];
  });

  it('pushes and pulls with the sources file and the Docker config', async () => {
    const url = `registry://${secured.host}/secure/pod-privileged:v2`;
    const pushed = await run('push', annotatedPath, url, ...flags);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toMatch(IMMUTABLE_REFERENCE);
    const pulled = await run('pull', url, ...flags);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain(`sha256:${sha256(annotated)}`);
  });

  it('fails with a TLS error without the sources file, and unauthorised without credentials', async () => {
    const url = `registry://${secured.host}/secure/pod-privileged:v3`;
    const untrusted = await run('pull', url, '--docker-config-json-path', flags[3] ?? '');
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/castellan: .*(TLS|certificate)/i);
    const anonymous = await run('pull', url, '--sources-path', flags[1] ?? '');
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/castellan: .*(unauthori[sz]ed|credentials)/i);
  });
});
