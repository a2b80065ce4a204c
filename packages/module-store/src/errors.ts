import { CastellanError } from '@castellan/proto';

/** Errors of the module store; codes are listed in docs/errors.md. */
export const ModuleStoreErrorCode = {
  NotFound: 'CASTELLAN_MODULE_STORE_NOT_FOUND',
  Corrupt: 'CASTELLAN_MODULE_STORE_CORRUPT',
  Unavailable: 'CASTELLAN_MODULE_STORE_UNAVAILABLE',
} as const;

export type ModuleStoreErrorCode = (typeof ModuleStoreErrorCode)[keyof typeof ModuleStoreErrorCode];

export class ModuleStoreError extends CastellanError<ModuleStoreErrorCode> {
  override readonly name = 'ModuleStoreError';
}
