import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockStateDir } from './state-lock.js';

/** The pid of a process that has exited: what a lock left by `up` killed with -9 holds. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? 0;
}

describe('lockStateDir', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'castellan-lock-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('holds the pid in the lock file, and only the lock file is left', async () => {
    const lock = await lockStateDir(dir);
    expect(await readFile(join(dir, 'up.lock'), 'utf8')).toBe(`${process.pid}\n`);
    expect(await readdir(dir)).toEqual(['up.lock']);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a second holder while the first lives, naming its pid and --state-dir', async () => {
    const first = await lockStateDir(dir, process.pid);
    // The parent of this process is alive too, and is not this process.
    await expect(lockStateDir(dir, process.ppid)).rejects.toThrow(
      `another castellan up (pid ${process.pid}) is running on ${dir}: stop it, or give this one its own --state-dir`,
    );
    // The refused one leaves nothing behind, and took nothing.
    expect(await readdir(dir)).toEqual(['up.lock']);
    await first.release();
  });

  it('takes over a lock whose pid is dead', async () => {
    await writeFile(join(dir, 'up.lock'), `${await deadPid()}\n`);
    const lock = await lockStateDir(dir);
    expect(await readFile(join(dir, 'up.lock'), 'utf8')).toBe(`${process.pid}\n`);
    expect(await readdir(dir)).toEqual(['up.lock']);
    await lock.release();
  });

  it('takes over a lock file that holds no pid', async () => {
    await writeFile(join(dir, 'up.lock'), '');
    const lock = await lockStateDir(dir);
    expect(await readFile(join(dir, 'up.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });

  it('releases only its own lock', async () => {
    const lock = await lockStateDir(dir);
    await writeFile(join(dir, 'up.lock'), `${process.ppid}\n`);
    await lock.release();
    expect(await readFile(join(dir, 'up.lock'), 'utf8')).toBe(`${process.ppid}\n`);
  });
});
