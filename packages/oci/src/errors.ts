import { CastellanError } from '@castellan/proto';

/**
 * Typed errors of the OCI distribution client. Every error has a stable `code` (listed in
 * docs/errors.md); across NATS they travel as `{ code, message }` and are recognised by code.
 */
export const OciErrorCode = {
  InvalidReference: 'CASTELLAN_OCI_INVALID_REFERENCE',
  SourcesInvalid: 'CASTELLAN_OCI_SOURCES_INVALID',
  DockerConfigInvalid: 'CASTELLAN_OCI_DOCKER_CONFIG_INVALID',
  CredentialHelperFailed: 'CASTELLAN_OCI_CREDENTIAL_HELPER_FAILED',
  Unauthorized: 'CASTELLAN_OCI_UNAUTHORIZED',
  Forbidden: 'CASTELLAN_OCI_FORBIDDEN',
  NotFound: 'CASTELLAN_OCI_NOT_FOUND',
  RequestRejected: 'CASTELLAN_OCI_REQUEST_REJECTED',
  RegistryUnavailable: 'CASTELLAN_OCI_REGISTRY_UNAVAILABLE',
  TlsFailed: 'CASTELLAN_OCI_TLS_FAILED',
  ProtocolError: 'CASTELLAN_OCI_PROTOCOL_ERROR',
  ManifestInvalid: 'CASTELLAN_OCI_MANIFEST_INVALID',
  IndexAmbiguous: 'CASTELLAN_OCI_INDEX_AMBIGUOUS',
  NoWasmLayer: 'CASTELLAN_OCI_NO_WASM_LAYER',
  DigestMismatch: 'CASTELLAN_OCI_DIGEST_MISMATCH',
  InvalidWasm: 'CASTELLAN_OCI_INVALID_WASM',
  TooLarge: 'CASTELLAN_OCI_TOO_LARGE',
  FileUnreadable: 'CASTELLAN_OCI_FILE_UNREADABLE',
  AddressNotAllowed: 'CASTELLAN_OCI_ADDRESS_NOT_ALLOWED',
  NetworkInvalid: 'CASTELLAN_OCI_NETWORK_INVALID',
} as const;

export type OciErrorCode = (typeof OciErrorCode)[keyof typeof OciErrorCode];

/** An error of the OCI client, recognised by its `code`. */
export class OciError extends CastellanError<OciErrorCode> {
  override readonly name = 'OciError';
}
