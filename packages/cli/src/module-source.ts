import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ModuleBytes } from '@castellan/runtime';
import { CliError } from './cli-error.js';
import { pullIntoStore } from './policy-pull.js';
import { PolicyStore } from './policy-store.js';
import type { RegistryFlags } from './registry-options.js';

const REMOTE_URL = /^(registry|https?):\/\//i;

/**
 * Resolves a module reference given on the command line to bytes: `registry://`, `https://` and
 * `http://` modules through the local store (pulled when missing, or always for `:latest`), local
 * paths and `file://` URLs in place.
 */
export async function readModule(reference: string, registry: RegistryFlags): Promise<ModuleBytes> {
  if (REMOTE_URL.test(reference)) {
    return (await pullIntoStore(reference, registry, new PolicyStore())).bytes;
  }
  return readLocalModule(reference);
}

/** Reads a module from a local path or `file://` URL. */
export async function readLocalModule(reference: string): Promise<ModuleBytes> {
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
