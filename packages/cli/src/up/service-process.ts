import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

export type ServiceName = 'fetcher' | 'evaluator' | 'gateway';

export interface ServiceProcess {
  readonly name: ServiceName;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM (the services drain), SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

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
  // Its own process group: Ctrl-C reaches only `castellan up`, which stops the services in order.
  const child = spawn(process.execPath, [entryPoint(name)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => onLine(name, line));
  }
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    name,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
