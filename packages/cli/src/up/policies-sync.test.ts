import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPoliciesFile, resolveModuleUrl } from './policies-sync.js';

describe('resolveModuleUrl', () => {
  it('reads ./ and ../ paths next to the policies file', () => {
    expect(resolveModuleUrl('./p.wasm', '/srv/castellan/policies.yml')).toBe('file:///srv/castellan/p.wasm');
    expect(resolveModuleUrl('../build/p.wasm', '/srv/castellan/policies.yml')).toBe(
      'file:///srv/build/p.wasm',
    );
  });

  it('leaves URLs and registry references alone', () => {
    for (const url of ['registry://ghcr.io/k/p:v1', 'https://x/p.wasm', 'file:///p.wasm', 'ghcr.io/k/p:v1']) {
      expect(resolveModuleUrl(url, '/srv/policies.yml')).toBe(url);
    }
  });
});

describe('readPoliciesFile', () => {
  it('resolves the modules of group members as it does those of policies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'castellan-policies-'));
    try {
      const path = join(dir, 'policies.yml');
      await writeFile(
        path,
        [
          'single: {module: ./p.wasm}',
          'group:',
          '  expression: a() && b()',
          '  message: no',
          '  policies: {a: {module: ./a.wasm}, b: {module: "registry://ghcr.io/k/b:v1"}}',
        ].join('\n'),
      );
      const [single, group] = await readPoliciesFile(path);
      expect(single?.moduleUrl).toBe(pathToFileURL(join(dir, 'p.wasm')).href);
      expect(group?.group?.members).toMatchObject({
        a: { moduleUrl: pathToFileURL(join(dir, 'a.wasm')).href },
        b: { moduleUrl: 'registry://ghcr.io/k/b:v1' },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
