import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CliError } from '../cli-error.js';

const run = promisify(execFile);

/**
 * The oldest nats-server `up` runs: its TLS configuration names cipher suites as 2.11 and later do,
 * and older servers ignore per-message TTLs.
 */
export const MINIMUM_NATS_SERVER = [2, 11] as const;
/** Debian installs the server in sbin, which is not on every user's PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin'];
/** Where `tools/build.sh` builds nats-server in a checkout of the repository. */
const BUILT = fileURLToPath(new URL('../../../../.tools/bin/nats-server', import.meta.url));

/**
 * The nats-server to run: the first one on PATH (then sbin) that is recent enough, else the one
 * `tools/build.sh` built. Older ones found on the way are named in the error when none will do.
 */
export async function findNatsServer(dirs = searchDirs(), builtBinary = BUILT): Promise<string> {
  const candidates = [...new Set([...dirs.map((dir) => join(dir, 'nats-server')), builtBinary])];
  const tooOld: string[] = [];
  for (const candidate of candidates) {
    if (!(await isExecutable(candidate))) continue;
    const version = await versionOf(candidate);
    if (version && isRecentEnough(version)) return candidate;
    tooOld.push(`${candidate} (${version ? `v${version.join('.')}` : 'version unknown'})`);
  }
  const minimum = MINIMUM_NATS_SERVER.join('.');
  const found = tooOld.length > 0 ? `; found only ${tooOld.join(', ')}` : '';
  throw new CliError(
    `nats-server ${minimum} or newer not found${found}: run tools/build.sh nats-server in the repository, put a newer one on PATH, or point NATS_URL at a running server`,
  );
}

function searchDirs(): string[] {
  return [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
}

/** `nats-server --version` prints `nats-server: v2.15.3`. */
async function versionOf(binary: string): Promise<number[] | undefined> {
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 5000 });
    const match = /v(\d+)\.(\d+)\.(\d+)/.exec(stdout);
    return match ? match.slice(1).map(Number) : undefined;
  } catch {
    return undefined;
  }
}

function isRecentEnough([major = 0, minor = 0]: readonly number[]): boolean {
  const [wantedMajor, wantedMinor] = MINIMUM_NATS_SERVER;
  return major > wantedMajor || (major === wantedMajor && minor >= wantedMinor);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
