import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawnTethered } from './tethered-child.js';

export type ServiceName = 'fetcher' | 'evaluator' | 'gateway';

export interface ServiceProcess {
  readonly name: ServiceName;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM (the services drain), SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

/** Long enough for the requests in flight to be answered. */
const DRAIN_GRACE_MS = 10_000;

const require = createRequire(import.meta.url);

/** The built entry point of a service workspace. */
function entryPoint(name: ServiceName): string {
  return join(dirname(require.resolve(`@castellan/${name}/package.json`)), 'dist', 'main.js');
}

/** Runs a service's `main.js` with the given environment; each log line goes to `onLine`. */
export function startService(
  name: ServiceName,
  env: Record<string, string>,
  onLine: (name: ServiceName, line: string) => void,
): ServiceProcess {
  const tethered = spawnTethered(process.execPath, [entryPoint(name)], {
    // service-host's runService stops the service when the tether on its stdin closes.
    env: { ...env, CASTELLAN_EXIT_WITH_PARENT: 'true' },
    stdout: 'pipe',
  });
  const { child, exited } = tethered;
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => onLine(name, line));
  }
  return { name, exited, stop: (graceMs = DRAIN_GRACE_MS) => tethered.stop(graceMs) };
}
