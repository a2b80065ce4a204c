import { CastellanError } from '@castellan/proto';

/** Errors of the reconciler; codes are listed in docs/errors.md. */
export const ReconcilerErrorCode = {
  PolicyNameInvalid: 'CASTELLAN_RECONCILER_POLICY_NAME_INVALID',
  ConfigInvalid: 'CASTELLAN_RECONCILER_CONFIG_INVALID',
  LeaderElectionInvalid: 'CASTELLAN_RECONCILER_LEADER_ELECTION_INVALID',
  CertificateSecretFailed: 'CASTELLAN_RECONCILER_CERTIFICATE_SECRET_FAILED',
  ImageReferenceInvalid: 'CASTELLAN_RECONCILER_IMAGE_REFERENCE_INVALID',
} as const;

export type ReconcilerErrorCode = (typeof ReconcilerErrorCode)[keyof typeof ReconcilerErrorCode];

export class ReconcilerError extends CastellanError<ReconcilerErrorCode> {
  override readonly name = 'ReconcilerError';
}
