/**
 * Checks parsed JSON against the shape of a Rust struct the way serde deserialises it, so that what the
 * reference host rejects is rejected here too, described in serde_json's words (without line and column).
 */
import { isJsonObject } from './json-value.js';

/** A value does not have the shape serde expects; the message is the serde-style description. */
export class ShapeMismatch extends Error {
  override readonly name = 'ShapeMismatch';
}

/** A member of a JSON object in document order; `raw` is the source text of the value when it is known. */
export interface JsonMember {
  key: string;
  value: unknown;
  raw?: string | undefined;
}

export type FieldReader<T> = (value: unknown, raw: string | undefined) => T;

export interface Field<T> {
  read: FieldReader<T>;
  optional: boolean;
}

/** A non-`Option` struct field: absence is `missing field`, `null` is a type error. */
export function required<T>(read: FieldReader<T>): Field<T> {
  return { read, optional: false };
}

/** An `Option<T>` struct field: absent and `null` both mean `None`. */
export function optional<T>(read: FieldReader<T>): Field<T | undefined> {
  return { read: (value, raw) => (value === null ? undefined : read(value, raw)), optional: true };
}

/** serde_json's rendering of an unexpected value. `raw` tells `403.0` (a float to serde) from `403`. */
export function describeUnexpected(value: unknown, raw?: string): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return `boolean \`${value}\``;
  if (typeof value === 'number') {
    if (isFloat(value, raw))
      return `floating point \`${Number.isInteger(value) ? value.toFixed(1) : value}\``;
    return `integer \`${value}\``;
  }
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  return Array.isArray(value) ? 'sequence' : 'map';
}

export function invalidType(value: unknown, expected: string, raw?: string): ShapeMismatch {
  return new ShapeMismatch(`invalid type: ${describeUnexpected(value, raw)}, expected ${expected}`);
}

export const readBoolean: FieldReader<boolean> = (value, raw) => {
  if (typeof value === 'boolean') return value;
  throw invalidType(value, 'a boolean', raw);
};

export const readString: FieldReader<string> = (value, raw) => {
  if (typeof value === 'string') return value;
  throw invalidType(value, 'a string', raw);
};

/** Any JSON value (`serde_json::Value`). */
export const readAnyValue: FieldReader<unknown> = (value) => value;

export const readU16: FieldReader<number> = (value, raw) => readInteger(value, raw, 'u16', 0, 0xffff);

export const readI32: FieldReader<number> = (value, raw) =>
  readInteger(value, raw, 'i32', -0x80000000, 0x7fffffff);

/** A `Vec<T>`. */
export function readList<T>(readItem: FieldReader<T>): FieldReader<T[]> {
  return (value, raw) => {
    if (!Array.isArray(value)) throw invalidType(value, 'a sequence', raw);
    return value.map((item: unknown) => readItem(item, undefined));
  };
}

export const readStringList: FieldReader<string[]> = readList(readString);

export const readStringMap: FieldReader<Record<string, string>> = (value, raw) => {
  if (!isJsonObject(value)) throw invalidType(value, 'a map', raw);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, readString(item, undefined)]));
};

/** A unit-variant enum: a string naming one of the variants. */
export function readVariant<T extends string>(variants: readonly T[]): FieldReader<T> {
  return (value, raw) => {
    if (typeof value !== 'string') throw invalidType(value, 'string or map', raw);
    if ((variants as readonly string[]).includes(value)) return value as T;
    throw new ShapeMismatch(`unknown variant \`${value}\`, expected ${describeVariants(variants)}`);
  };
}

/** The members of a parsed object, for `readStruct`; anything else is a type error naming the struct. */
export function objectMembers(value: unknown, structName: string): JsonMember[] {
  if (!isJsonObject(value)) throw invalidType(value, `struct ${structName}`);
  return Object.entries(value).map(([key, item]) => ({ key, value: item }));
}

/** A nested struct field. */
export function readStructValue<T>(structName: string, fields: StructFields<T>): FieldReader<T> {
  return (value) => readStruct(objectMembers(value, structName), fields);
}

export type StructFields<T> = { [K in keyof T]-?: Field<T[K]> };

/**
 * Reads struct fields in document order like serde's derived `Deserialize`: unknown keys are ignored, a
 * repeated known key is an error, missing non-`Option` fields are reported after the last member.
 * `None` fields are left out of the result.
 */
export function readStruct<T>(members: readonly JsonMember[], fields: StructFields<T>): T {
  const result: Partial<T> = {};
  const seen = new Set<string>();
  for (const { key, value, raw } of members) {
    if (!Object.hasOwn(fields, key)) continue;
    if (seen.has(key)) throw new ShapeMismatch(`duplicate field \`${key}\``);
    seen.add(key);
    const field = fields[key as keyof T];
    const read = field.read(value, raw);
    if (read !== undefined) result[key as keyof T] = read;
  }
  for (const key of Object.keys(fields)) {
    if (!seen.has(key) && !fields[key as keyof T].optional)
      throw new ShapeMismatch(`missing field \`${key}\``);
  }
  return result as T;
}

function readInteger(
  value: unknown,
  raw: string | undefined,
  type: string,
  min: number,
  max: number,
): number {
  if (typeof value !== 'number' || isFloat(value, raw)) throw invalidType(value, type, raw);
  if (value < min || value > max)
    throw new ShapeMismatch(`invalid value: integer \`${value}\`, expected ${type}`);
  return value;
}

/** serde_json reads a number with a fraction or an exponent as a float, even when its value is whole. */
function isFloat(value: number, raw: string | undefined): boolean {
  return !Number.isInteger(value) || (raw !== undefined && /[.eE]/.test(raw));
}

function describeVariants(variants: readonly string[]): string {
  const quoted = variants.map((variant) => `\`${variant}\``);
  if (quoted.length <= 2) return quoted.join(' or ');
  return `one of ${quoted.join(', ')}`;
}
