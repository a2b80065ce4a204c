/**
 * What every host-side builtin shares: the error burrego raises and its argument checks.
 *
 * burrego turns every builtin failure into `BurregoError::BuiltinError { name, message }`, displayed as
 * `Builtin error ["<name>"]: "<message>"` (both parts Rust-Debug quoted), and the evaluation aborts. We throw
 * the same shape, with burrego's own wording wherever that wording is fixed text.
 */
export class RegoBuiltinError extends Error {
  override readonly name: string = 'RegoBuiltinError';
  readonly builtin: string;
  readonly detail: string;

  constructor(builtin: string, detail: string) {
    super(`Builtin error [${rustDebugString(builtin)}]: ${rustDebugString(detail)}`);
    this.builtin = builtin;
    this.detail = detail;
  }
}

/** The signature opa-wasm calls host builtins with: JSON values in, a JSON value out. */
export type RegoBuiltin = (...args: unknown[]) => unknown;

/** burrego checks the argument count itself, each builtin with its own wording. */
export function expectArity(builtin: string, args: readonly unknown[], count: number, message: string): void {
  if (args.length !== count) throw new RegoBuiltinError(builtin, message);
}

export function expectString(builtin: string, value: unknown, message: string): string {
  if (typeof value !== 'string') throw new RegoBuiltinError(builtin, message);
  return value;
}

export function isJsonArray(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

export function isJsonObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * serde_json's `as_i64()`: only integers that fit in an i64 count. JSON numbers reach us as doubles, so an
 * integral double stands in for the integer literal burrego would have parsed.
 */
export function asI64(value: unknown): bigint | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value)) return undefined;
  const integer = BigInt(value);
  return integer >= I64_MIN && integer <= I64_MAX ? integer : undefined;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/**
 * Rust's `str` ordering (UTF-8 bytes). burrego's objects are serde_json maps, which iterate in this order, so
 * anything that walks an object's keys must too.
 */
export function compareRustStrings(left: string, right: string): number {
  return Buffer.compare(Buffer.from(left, 'utf8'), Buffer.from(right, 'utf8'));
}

/** Rust's `{:?}` of a `str`, which shows up in burrego's messages and in gtmpl's output. */
export function rustDebugString(text: string): string {
  let out = '"';
  for (const char of text) out += debugEscape(char);
  return `${out}"`;
}

const DEBUG_ESCAPES: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\t': '\\t',
  '\r': '\\r',
  '\n': '\\n',
  '\\': '\\\\',
  '"': '\\"',
};

// Rust escapes what its `is_printable` rejects (control, format, private-use, unassigned, and separators
// other than the ASCII space) and, in `str` Debug output, grapheme extenders such as combining accents.
const RUST_UNPRINTABLE = /^(?! )[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}\p{Grapheme_Extend}]$/u;

function debugEscape(char: string): string {
  const escaped = DEBUG_ESCAPES[char];
  if (escaped !== undefined) return escaped;
  if (RUST_UNPRINTABLE.test(char)) return `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`;
  return char;
}
