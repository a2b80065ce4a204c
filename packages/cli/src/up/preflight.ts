import { createServer } from 'node:net';
import { loadSources } from '@castellan/oci';
import { messageOf } from '@castellan/proto';
import { CliError } from '../cli-error.js';
import { readPoliciesFile } from './policies-sync.js';

/**
 * What `castellan up` checks before it starts anything: a mistake in the command line or the
 * policies file is one line and an exit at once, not a start of NATS and every service followed by
 * a stop.
 */

/** The policies file `up` reads when `--policies` is not given. */
export const DEFAULT_POLICIES_FILE = 'policies.yml';

/** Reads and validates the policies file; `given`: the user named it (else it is the default). */
export async function checkPoliciesFile(path: string, given: boolean): Promise<void> {
  try {
    await readPoliciesFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(messageOf(error));
    throw new CliError(
      given
        ? `policies file ${path} not found`
        : `no ${DEFAULT_POLICIES_FILE} here: give one with --policies <file> (examples/policies.yml is a start)`,
    );
  }
}

/** A sources file (`--sources-path`) that cannot be read or parsed would stop the fetcher in a loop. */
export async function checkSourcesFile(path: string): Promise<void> {
  await loadSources(path).catch((error: unknown) => {
    throw new CliError(`--sources-path: ${messageOf(error)}`);
  });
}

/** Each port, by the option that sets it, must be free on 127.0.0.1, where the gateway listens. */
export async function checkPortsFree(ports: Record<string, number>): Promise<void> {
  const byPort = new Map<number, string>();
  for (const [option, port] of Object.entries(ports)) {
    const other = byPort.get(port);
    if (other !== undefined && port !== 0) throw new CliError(`${other} and ${option} are both ${port}`);
    byPort.set(port, option);
  }
  for (const [option, port] of Object.entries(ports)) {
    if (port === 0) continue;
    const problem = await bindProblem(port);
    if (problem !== undefined) {
      throw new CliError(
        `port ${port} (${option}) ${problem} on 127.0.0.1: stop what uses it, or choose another with ${option}`,
      );
    }
  }
}

/** Binds the port and lets it go again; says why it could not be bound. */
function bindProblem(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'EADDRINUSE' ? 'is in use' : `cannot be listened on (${error.code ?? error.message})`,
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(undefined)));
  });
}
