import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from '../cli-error.js';

const LOCK_FILE = 'up.lock';
/** Rounds of "find a stale lock, set it aside, try again" before giving up on a lock that keeps changing. */
const MAX_ATTEMPTS = 5;

/** The state directory of one `castellan up`, held until `release`. */
export interface StateLock {
  /** Removes the lock file, if it is still this process's. */
  release(): Promise<void>;
}

/**
 * Makes `pid` the only `castellan up` of `dir`: two sharing a state dir share one NATS store and one
 * set of credentials, and each would restart what the other stops. The lock file holds the pid
 * and appears whole or not at all (written aside, then hard-linked into place, which fails when a
 * lock is there). A lock whose pid is dead (`up` killed with -9) is taken over.
 */
export async function lockStateDir(dir: string, pid = process.pid): Promise<StateLock> {
  await mkdir(dir, { recursive: true });
  const lockPath = join(dir, LOCK_FILE);
  const mine = `${lockPath}.${pid}`;
  await writeFile(mine, `${pid}\n`);
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await linkedInPlace(mine, lockPath)) return { release: () => releaseLock(lockPath, pid) };
      const holder = await holderOf(lockPath);
      if (holder === pid) return { release: () => releaseLock(lockPath, pid) };
      if (holder !== undefined && isAlive(holder)) {
        throw new CliError(
          `another castellan up (pid ${holder}) is running on ${dir}: stop it, or give this one its own --state-dir`,
        );
      }
      await setAsideIfStale(lockPath, holder, `${mine}.stale`);
    }
    throw new CliError(
      `cannot lock ${dir}: its lock file ${lockPath} keeps changing; is another castellan up starting?`,
    );
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

async function linkedInPlace(file: string, lockPath: string): Promise<boolean> {
  try {
    await link(file, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The pid in the lock file; undefined when it is gone or holds no pid. */
async function holderOf(lockPath: string): Promise<number | undefined> {
  const text = await readFile(lockPath, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether a process with that pid exists (EPERM: it does, someone else's). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves a stale lock out of the way. Renaming is atomic, but another `up` may have replaced the
 * stale lock with its own meanwhile: what was moved is checked, and a live lock put back.
 */
async function setAsideIfStale(lockPath: string, stalePid: number | undefined, aside: string): Promise<void> {
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await holderOf(aside);
  if (moved !== stalePid && moved !== undefined && isAlive(moved))
    await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function releaseLock(lockPath: string, pid: number): Promise<void> {
  if ((await holderOf(lockPath)) === pid) await unlink(lockPath).catch(() => undefined);
}
