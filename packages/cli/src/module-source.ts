import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ModuleBytes } from '@castellan/runtime';
import { CliError } from './cli-error.js';

/**
 * Resolves a module reference given on the command line to bytes. Local paths and `file://` URLs
 * only for now; registry and HTTPS sources come with policy distribution.
 */
export async function readModule(reference: string): Promise<ModuleBytes> {
  if (/^(registry|https?):\/\//.test(reference)) {
    throw new CliError(
      `cannot read ${reference}: registry:// and https:// modules are not supported yet; download the .wasm file and give its path`,
    );
  }
  const path = reference.startsWith('file://') ? fileURLToPath(reference) : reference;
  try {
    const file = await readFile(path);
    return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new CliError(`cannot read policy module ${path}: ${why}`);
  }
}
