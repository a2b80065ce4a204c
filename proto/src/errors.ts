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

/**
 * The base of every package's typed error: a stable `code` from the package's code list, a message
 * a user can act on, and the wire form it crosses NATS and worker threads in.
 */
export class CastellanError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  toRecord(): WireError {
    return { code: this.code, message: this.message };
  }
}

export class ProtoError extends CastellanError<ProtoErrorCode> {
  override readonly name = 'ProtoError';
}

/**
 * The wire form of anything thrown: an error with a Castellan code keeps it, whatever package
 * raised it; anything else is reported under `fallback`, its message prefixed by `context`.
 */
export function toWireError(error: unknown, fallback: string, context: string): WireError {
  if (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('CASTELLAN_')
  ) {
    return { code: error.code, message: error.message };
  }
  return { code: fallback, message: `${context}: ${messageOf(error)}` };
}

/** The message of any thrown value: an Error's message, anything else as a string. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
