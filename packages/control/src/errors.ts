import { CastellanError } from '@castellan/proto';

/** Errors of the control plane (policies files, publishing); codes are listed in docs/errors.md. */
export const ControlErrorCode = {
  PoliciesFileInvalid: 'CASTELLAN_CONTROL_POLICIES_FILE_INVALID',
  FetcherUnavailable: 'CASTELLAN_CONTROL_FETCHER_UNAVAILABLE',
  PolicyInvalid: 'CASTELLAN_CONTROL_POLICY_INVALID',
  PublishFailed: 'CASTELLAN_CONTROL_PUBLISH_FAILED',
} as const;

export type ControlErrorCode = (typeof ControlErrorCode)[keyof typeof ControlErrorCode];

export class ControlError extends CastellanError<ControlErrorCode> {
  override readonly name = 'ControlError';
}
