import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where tools/build.sh puts the servers it builds from Go modules. */
const BUILT_TOOLS = fileURLToPath(new URL('../../.tools/bin/', import.meta.url));

/** Servers built by tools/build.sh: these are always taken from there, never from PATH. */
const BUILT = new Set([
  'nats-server',
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kubectl',
  'helm',
  'opa',
]);

/** Debian packages providing the other programs the integration tests run. */
const PACKAGE_OF: Record<string, string> = {
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  htpasswd: 'apache2-utils',
  openssl: 'openssl',
};

/** Debian installs some servers in sbin, which is not on every PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/bin', '/sbin'];

/**
 * Absolute path of a required binary. Integration tests never skip when one is missing: they fail
 * with the command that provides it. The servers of tools/build.sh come only from there, so that a
 * machine's older nats-server on PATH is never tested by mistake.
 */
export async function requireBinary(name: string): Promise<string> {
  if (BUILT.has(name)) {
    const built = join(BUILT_TOOLS, name);
    if (await isExecutable(built)) return built;
    throw new Error(
      `${name} is not built: run \`tools/build.sh\` (or .ci/run), which builds it into .tools/bin`,
    );
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  const pkg = PACKAGE_OF[name] ?? name;
  throw new Error(
    `${name} not found on PATH: install it with \`sudo apt-get install -y ${pkg}\` (or run .ci/run)`,
  );
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
