import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkPoliciesFile, checkPortsFree, checkSourcesFile } from './preflight.js';

describe('preflight of castellan up', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'castellan-preflight-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('says how to give a policies file when the default one is missing', async () => {
    await expect(checkPoliciesFile(join(dir, 'policies.yml'), false)).rejects.toThrow(
      'no policies.yml here: give one with --policies <file> (examples/policies.yml is a start)',
    );
    await expect(checkPoliciesFile(join(dir, 'mine.yml'), true)).rejects.toThrow(
      `policies file ${join(dir, 'mine.yml')} not found`,
    );
  });

  it('reports a policies file that breaks the rules', async () => {
    const path = join(dir, 'policies.yml');
    await writeFile(path, 'p: [not, a, policy]\n');
    await expect(checkPoliciesFile(path, true)).rejects.toThrow(path);
    await writeFile(path, 'p: {module: ./p.wasm}\n');
    await expect(checkPoliciesFile(path, true)).resolves.toBeUndefined();
  });

  it('reports a sources file that is missing or invalid', async () => {
    await expect(checkSourcesFile(join(dir, 'sources.yml'))).rejects.toThrow(/^--sources-path: cannot read/);
    await writeFile(join(dir, 'sources.yml'), 'insecure_sources: [127.0.0.1:5000]\n');
    await expect(checkSourcesFile(join(dir, 'sources.yml'))).resolves.toBeUndefined();
  });

  describe('ports', () => {
    let held: Server;
    let port: number;

    beforeEach(async () => {
      held = createServer();
      await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
      port = (held.address() as { port: number }).port;
    });
    afterEach(() => new Promise<void>((resolve) => held.close(() => resolve())));

    it('names the option of a port in use', async () => {
      await expect(checkPortsFree({ '--port': 0, '--readiness-port': port })).rejects.toThrow(
        `port ${port} (--readiness-port) is in use on 127.0.0.1: stop what uses it, or choose another with --readiness-port`,
      );
    });

    it('refuses one port for two options, and lets free ports go again', async () => {
      await expect(checkPortsFree({ '--port': 9, '--readiness-port': 9 })).rejects.toThrow(
        '--port and --readiness-port are both 9',
      );
      await new Promise<void>((resolve) => held.close(() => resolve()));
      await checkPortsFree({ '--port': port });
      // Released: it can be listened on at once.
      held = createServer();
      await new Promise<void>((resolve) => held.listen(port, '127.0.0.1', resolve));
    });
  });
});
