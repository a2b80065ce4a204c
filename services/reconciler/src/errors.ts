import { CastellanError } from '@castellan/proto';

/** Errors of the reconciler; codes are listed in docs/errors.md. */
export const ReconcilerErrorCode = {
  PolicyNameInvalid: 'CASTELLAN_RECONCILER_POLICY_NAME_INVALID',
} as const;

export type ReconcilerErrorCode = (typeof ReconcilerErrorCode)[keyof typeof ReconcilerErrorCode];

export class ReconcilerError extends CastellanError<ReconcilerErrorCode> {
  override readonly name = 'ReconcilerError';
}
