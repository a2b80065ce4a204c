/** Helpers for parsed JSON values (the output of `JSON.parse` or a YAML parser). */

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON type of a value, in the words an operator reads in an error message. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  return typeof value;
}

/** A copy without the keys whose value is `undefined`, keeping key order (Rust's `skip_serializing_if`). */
export function withoutUndefined<T extends object>(record: T): T {
  // A plain loop: every request and response passes here, and entries/filter/fromEntries cost 4× as much.
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    const value = (record as Record<string, unknown>)[key];
    if (value !== undefined) copy[key] = value;
  }
  return copy as T;
}

/**
 * Orders strings by their UTF-8 bytes, as Rust's `BTreeMap`/`BTreeSet` do; JavaScript's default sort compares
 * UTF-16 code units, which disagrees for characters outside the Basic Multilingual Plane.
 */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
