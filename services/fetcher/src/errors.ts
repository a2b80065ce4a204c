import type { WireError } from '@castellan/proto';

/** Errors of the fetcher service; codes are listed in docs/errors.md. */
export const FetchErrorCode = {
  ConfigInvalid: 'CASTELLAN_FETCH_CONFIG_INVALID',
  Failed: 'CASTELLAN_FETCH_FAILED',
} as const;

export type FetchErrorCode = (typeof FetchErrorCode)[keyof typeof FetchErrorCode];

export class FetchError extends Error {
  override readonly name = 'FetchError';
  readonly code: FetchErrorCode;

  constructor(code: FetchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * The wire form of anything a fetch threw. Typed errors of every package keep their code; an
 * error without one is a fetcher bug and says so.
 */
export function toWireError(error: unknown): WireError {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    if (error.code.startsWith('CASTELLAN_')) return { code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: FetchErrorCode.Failed, message: `unexpected fetcher failure: ${message}` };
}
