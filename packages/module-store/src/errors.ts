/** Errors of the module store; codes are listed in docs/errors.md. */
export const ModuleStoreErrorCode = {
  NotFound: 'CASTELLAN_MODULE_STORE_NOT_FOUND',
  Corrupt: 'CASTELLAN_MODULE_STORE_CORRUPT',
  Unavailable: 'CASTELLAN_MODULE_STORE_UNAVAILABLE',
} as const;

export type ModuleStoreErrorCode = (typeof ModuleStoreErrorCode)[keyof typeof ModuleStoreErrorCode];

export class ModuleStoreError extends Error {
  override readonly name = 'ModuleStoreError';
  readonly code: ModuleStoreErrorCode;

  constructor(code: ModuleStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  toRecord(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}
