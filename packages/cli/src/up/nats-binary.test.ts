import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNatsServer } from './nats-binary.js';

let dir: string;

/** A directory holding a `nats-server` that prints `version` as the real one does. */
async function serverPrinting(name: string, version: string): Promise<string> {
  const binDir = join(dir, name);
  await mkdir(binDir);
  await writeFile(join(binDir, 'nats-server'), `#!/bin/sh\necho "nats-server: ${version}"\n`);
  await chmod(join(binDir, 'nats-server'), 0o755);
  return binDir;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'castellan-nats-binary-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('findNatsServer', () => {
  it('skips a server older than 2.11 on PATH for a newer one after it', async () => {
    const old = await serverPrinting('debian', 'v2.9.10');
    const current = await serverPrinting('current', 'v2.15.3');
    expect(await findNatsServer([old, current], join(dir, 'missing'))).toBe(join(current, 'nats-server'));
  });

  it('falls back to the server tools/build.sh built', async () => {
    const old = await serverPrinting('old-only', 'v2.10.29');
    const built = await serverPrinting('built', 'v2.12.1');
    expect(await findNatsServer([old], join(built, 'nats-server'))).toBe(join(built, 'nats-server'));
  });

  it('names the servers it found too old, and what to do, when none will do', async () => {
    const old = await serverPrinting('too-old', 'v2.9.10');
    await expect(findNatsServer([old, join(dir, 'empty')], join(dir, 'missing'))).rejects.toThrow(
      `nats-server 2.11 or newer not found; found only ${join(old, 'nats-server')} (v2.9.10): run tools/build.sh nats-server in the repository, put a newer one on PATH, or point NATS_URL at a running server`,
    );
  });
});
