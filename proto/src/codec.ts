import { Decoder, Encoder } from 'cbor-x';
import { ProtoError, ProtoErrorCode } from './errors.js';
import type { WireError } from './errors.js';

/** The version every message carries in its `v` field; a reader refuses versions it does not know. */
export const PROTO_VERSION = 1;

// Plain CBOR maps (no cbor-x record extension), so any CBOR implementation can read the wire.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** A decoded message before its fields are checked. */
export type MessageFields = Record<string, unknown>;

export function encodeMessage(fields: object): Uint8Array {
  return encoder.encode({ v: PROTO_VERSION, ...fields });
}

/** Decodes a CBOR message and checks its version; the caller checks the fields with a {@link FieldReader}. */
export function decodeMessage(bytes: Uint8Array, kind: string): FieldReader {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (error) {
    throw new ProtoError(ProtoErrorCode.MessageInvalid, `${kind}: not valid CBOR`, { cause: error });
  }
  if (!isRecord(value)) throw new ProtoError(ProtoErrorCode.MessageInvalid, `${kind}: not a CBOR map`);
  if (value.v !== PROTO_VERSION) {
    throw new ProtoError(
      ProtoErrorCode.VersionUnsupported,
      `${kind}: version ${String(value.v)} is not supported (this build speaks version ${PROTO_VERSION}); upgrade the older service`,
    );
  }
  return new FieldReader(value, kind);
}

function isRecord(value: unknown): value is MessageFields {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/** Typed access to the fields of a decoded message; a wrong field throws naming its path. */
export class FieldReader {
  constructor(
    private readonly fields: MessageFields,
    private readonly path: string,
  ) {}

  private invalid(key: string, expected: string): ProtoError {
    return new ProtoError(ProtoErrorCode.MessageInvalid, `${this.path}.${key}: expected ${expected}`);
  }

  has(key: string): boolean {
    return this.fields[key] !== undefined && this.fields[key] !== null;
  }

  string(key: string): string {
    const value = this.fields[key];
    if (typeof value !== 'string') throw this.invalid(key, 'a string');
    return value;
  }

  /** A string from a closed set. */
  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const value = this.string(key);
    if (!(allowed as readonly string[]).includes(value)) {
      throw this.invalid(key, `one of ${allowed.join(', ')} (got "${value}")`);
    }
    return value as T;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  number(key: string): number {
    const value = this.fields[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.invalid(key, 'a number');
    return value;
  }

  boolean(key: string): boolean {
    const value = this.fields[key];
    if (typeof value !== 'boolean') throw this.invalid(key, 'a boolean');
    return value;
  }

  bytes(key: string): Uint8Array {
    const value = this.fields[key];
    if (!(value instanceof Uint8Array)) throw this.invalid(key, 'a byte string');
    return value;
  }

  stringList(key: string): string[] {
    const value = this.fields[key];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      throw this.invalid(key, 'a list of strings');
    }
    return value;
  }

  /** An error carried in a reply. */
  wireError(key: string): WireError {
    const error = this.object(key);
    return { code: error.string('code'), message: error.string('message') };
  }

  /** A list of maps, each read with its own reader. */
  objectList(key: string): FieldReader[] {
    const value = this.fields[key];
    if (!Array.isArray(value) || !value.every(isRecord)) throw this.invalid(key, 'a list of maps');
    return value.map((item, index) => new FieldReader(item, `${this.path}.${key}[${index}]`));
  }

  /** A nested map, read with its own reader. */
  object(key: string): FieldReader {
    const value = this.fields[key];
    if (!isRecord(value)) throw this.invalid(key, 'a map');
    return new FieldReader(value, `${this.path}.${key}`);
  }

  optionalObject(key: string): FieldReader | undefined {
    return this.has(key) ? this.object(key) : undefined;
  }

  /** A map of free-form JSON-like values (settings, metadata), returned as is. */
  json(key: string): MessageFields {
    const value = this.fields[key];
    if (!isRecord(value)) throw this.invalid(key, 'a map');
    return value;
  }

  /** Every key of this map, for maps keyed by data (hosts, policy ids). */
  keys(): string[] {
    return Object.keys(this.fields);
  }
}
