import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/castellan.js', import.meta.url));

export interface CastellanResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `castellan` binary; `env` is added to this process's environment. */
export function castellanWith(env: Record<string, string>, ...args: string[]): Promise<CastellanResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { timeout: 30_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

export function castellan(...args: string[]): Promise<CastellanResult> {
  return castellanWith({}, ...args);
}
