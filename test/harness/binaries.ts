import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Debian packages providing the servers the integration tests start. */
const PACKAGE_OF: Record<string, string> = {
  'nats-server': 'nats-server',
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  htpasswd: 'apache2-utils',
  openssl: 'openssl',
};

/** Debian installs some servers in sbin, which is not on every PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/bin', '/sbin'];

/**
 * Absolute path of a required binary. Integration tests never skip when one is
 * missing: they fail with the command that installs it.
 */
export async function requireBinary(name: string): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  const pkg = PACKAGE_OF[name] ?? name;
  throw new Error(
    `${name} not found on PATH: install it with \`sudo apt-get install -y ${pkg}\` (or run .ci/run)`,
  );
}
