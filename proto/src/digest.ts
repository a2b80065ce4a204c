import { createHash } from 'node:crypto';

/** Hex sha256: the name of a module in the module store, and of a URL in the module index. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
