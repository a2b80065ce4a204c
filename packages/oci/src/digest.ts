import { sha256Hex } from '@castellan/proto';
import { OciError, OciErrorCode } from './errors.js';

/** The OCI digest of some bytes: `sha256:<hex>`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${sha256Hex(bytes)}`;
}

/** Throws DIGEST_MISMATCH naming both digests unless `actual` is `expected`. */
export function verifyDigest(what: string, expected: string, actual: string): void {
  if (expected !== actual) {
    throw new OciError(
      OciErrorCode.DigestMismatch,
      `${what} digest mismatch: expected ${expected}, got ${actual}; the registry served different content than the reference or manifest names`,
    );
  }
}
