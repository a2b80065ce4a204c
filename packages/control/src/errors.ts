/** Errors of the control plane (policies files, publishing); codes are listed in docs/errors.md. */
export const ControlErrorCode = {
  PoliciesFileInvalid: 'CASTELLAN_CONTROL_POLICIES_FILE_INVALID',
  FetcherUnavailable: 'CASTELLAN_CONTROL_FETCHER_UNAVAILABLE',
} as const;

export type ControlErrorCode = (typeof ControlErrorCode)[keyof typeof ControlErrorCode];

export class ControlError extends Error {
  override readonly name = 'ControlError';
  readonly code: ControlErrorCode;

  constructor(code: ControlErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
