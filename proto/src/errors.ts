/**
 * Errors of the wire contract. Every error has a stable `code` (listed in docs/errors.md). Errors
 * that cross NATS travel as a {@link WireError} and are recognised by code.
 */
export const ProtoErrorCode = {
  MessageInvalid: 'CASTELLAN_PROTO_MESSAGE_INVALID',
  VersionUnsupported: 'CASTELLAN_PROTO_VERSION_UNSUPPORTED',
  SubjectTokenInvalid: 'CASTELLAN_PROTO_SUBJECT_TOKEN_INVALID',
} as const;

export type ProtoErrorCode = (typeof ProtoErrorCode)[keyof typeof ProtoErrorCode];

/** An error as it travels in a reply: a stable code and a message a user can act on. */
export interface WireError {
  code: string;
  message: string;
}

export class ProtoError extends Error {
  override readonly name = 'ProtoError';
  readonly code: ProtoErrorCode;

  constructor(code: ProtoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  toRecord(): WireError {
    return { code: this.code, message: this.message };
  }
}
