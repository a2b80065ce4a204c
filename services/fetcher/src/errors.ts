import { CastellanError } from '@castellan/proto';

/** Errors of the fetcher service; codes are listed in docs/errors.md. */
export const FetchErrorCode = {
  ConfigInvalid: 'CASTELLAN_FETCH_CONFIG_INVALID',
  Failed: 'CASTELLAN_FETCH_FAILED',
  FileNotAllowed: 'CASTELLAN_FETCH_FILE_NOT_ALLOWED',
} as const;

export type FetchErrorCode = (typeof FetchErrorCode)[keyof typeof FetchErrorCode];

export class FetchError extends CastellanError<FetchErrorCode> {
  override readonly name = 'FetchError';
}
