import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from '../cli-error.js';
import type { ServiceProcess } from './service-process.js';

const READY_TIMEOUT_MS = 60_000;

/** Waits for the gateway's readiness; fails at once if the gateway exits (a port taken meanwhile, say). */
export async function waitUntilReady(port: number, gateway: ServiceProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  void gateway.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited)
      throw new CliError(
        'the gateway could not start; see its log above (is --port or --readiness-port in use?)',
      );
    const ready = await fetch(`http://127.0.0.1:${port}/readiness`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await sleep(100);
  }
  throw new CliError(`the gateway was not ready after ${READY_TIMEOUT_MS / 1000} s; see its log above`);
}
