/**
 * `sprintf` as Kubewarden runs it (burrego `crates/burrego/src/builtins/strings.rs`).
 *
 * burrego does not call a Go-compatible formatter: it pastes the format string into a Go template,
 * `{{ printf "<format>" (index . 0) (index . 1) …}}`, and renders that with the gtmpl crate, whose `printf`
 * is a partial port of Go's fmt on top of Rust's formatter (gtmpl `src/printf.rs`, `src/print_verb.rs`;
 * values from gtmpl_value). Gatekeeper messages reach users through this path, so its behaviour — including
 * where it departs from Go — is what we reproduce:
 * - `%v` prints non-negative integers, strings, booleans, arrays (`[a b]`) and objects (`map[k:v]`);
 *   negative integers, `null`, and verbs a type does not support are errors, not `%!v(int=-1)`.
 * - A missing argument is an error (no `%!v(MISSING)`); extra arguments are ignored; `%%` stays `%%`.
 * - Width pads strings on the right and integers on the left; `0` and `-` only apply alongside `+` or `#`.
 * - Elements nested two levels deep print as Rust Debug text (`[[String("a")]]`).
 * - The format string goes through the template lexer: a `"` or newline in it, or a backslash escape gtmpl
 *   does not know, is an error.
 * - A non-integer number anywhere in the arguments makes burrego panic; we raise an error instead.
 * Object keys are printed in sorted order; burrego uses a HashMap, whose order is arbitrary.
 */
import {
  asI64,
  compareRustStrings,
  expectArity,
  expectString,
  isJsonArray,
  RegoBuiltinError,
  rustDebugString,
} from './builtin.js';

const NAME = 'sprintf';

export function sprintf(...args: unknown[]): string {
  expectArity(NAME, args, 2, 'Wrong number of arguments given');
  const format = expectString(NAME, args[0], '1st parameter is not a string');
  const values = args[1];
  if (!isJsonArray(values)) throw new RegoBuiltinError(NAME, '2nd parameter is not an array');
  const operands = values.map(toTmplValue);
  try {
    lexStringLiteral(format);
    return printf(unquote(format), operands);
  } catch (error) {
    if (!(error instanceof ParseFailure || error instanceof PrintFailure)) throw error;
    const template = templateSource(format, operands.length);
    const detail = `Cannot render go template '${template}' with args ${debugList(operands)}: ${error.message}`;
    throw new RegoBuiltinError(NAME, detail);
  }
}

/** gtmpl could not parse the template; burrego wraps the message into "Cannot render go template …". */
class ParseFailure extends Error {}

/**
 * gtmpl's printf failed while the template ran. burrego prints the error with `{:?}`, which shows the
 * wrappers the error passed through on its way out of gtmpl.
 */
class PrintFailure extends Error {
  constructor(reason: string) {
    super(`ExecError(FuncError(Other(${reason})))`);
  }
}

/** gtmpl_value::Value, limited to what burrego's JSON conversion produces. */
type TmplValue =
  | { readonly kind: 'nil' }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: bigint }
  | { readonly kind: 'array'; readonly items: readonly TmplValue[] }
  | { readonly kind: 'map'; readonly entries: readonly (readonly [string, TmplValue])[] };

function toTmplValue(value: unknown): TmplValue {
  if (typeof value === 'boolean') return { kind: 'bool', value };
  if (typeof value === 'string') return { kind: 'string', value };
  if (typeof value === 'number') return { kind: 'number', value: integerOperand(value) };
  if (isJsonArray(value)) return { kind: 'array', items: value.map(toTmplValue) };
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => compareRustStrings(a, b));
    return { kind: 'map', entries: entries.map(([key, item]) => [key, toTmplValue(item)] as const) };
  }
  return { kind: 'nil' };
}

// burrego converts numbers with `as_i64().unwrap()`, which panics for fractions and anything outside i64.
function integerOperand(value: number): bigint {
  const integer = asI64(value);
  if (integer === undefined) throw new RegoBuiltinError(NAME, 'called `Option::unwrap()` on a `None` value');
  return integer;
}

function templateSource(format: string, argCount: number): string {
  const operands = Array.from({ length: argCount }, (_, i) => `(index . ${i})`);
  return `{{ printf "${format}" ${operands.join(' ')}}}`;
}

/**
 * gtmpl's lexer scans the quoted literal the format string was pasted into. It ends the literal at the first
 * unescaped `"` (the rest of the format then breaks the template), rejects newlines, and — unlike Go — a `\`
 * keeps the escape flag set across a following `\`, so `\\"` does not close the literal either.
 */
function lexStringLiteral(format: string): void {
  let escaped = false;
  for (const char of format) {
    if (char === '\\') {
      escaped = true;
      continue;
    }
    if (char === '\n') throw new ParseFailure('unterminated quoted string');
    if (char === '"' && !escaped) throw new ParseFailure(`unexpected "\\"" in format string: ${format}`);
    escaped = false;
  }
  // The closing quote we appended is itself escaped; nothing later in the template closes the literal.
  if (escaped) throw new ParseFailure('unterminated quoted string');
}

const BACKSLASH = 0x5c;

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  "'": "'",
  '"': '"',
  '\\': '\\',
};

/** gtmpl's `unquote_str`, which walks the literal as UTF-8 bytes; its quirks are kept (see the helpers). */
function unquote(literal: string): string {
  const bytes = Buffer.from(literal, 'utf8');
  let out = '';
  let at = 0;
  while (at < bytes.length) {
    const [text, length] = unquoteAt(bytes.subarray(at));
    // gtmpl loops forever when an escape consumes nothing (`\x`/`\u` with too few bytes left) and burrego
    // runs into its evaluation deadline; failing is the nearest observable outcome.
    if (length === 0) throw new ParseFailure('unable to unquote: escape sequence never terminates');
    out += text;
    at += length;
  }
  return out;
}

function unquoteAt(rest: Buffer): readonly [string, number] {
  const lead = rest[0] ?? 0;
  if (lead !== BACKSLASH) return [rest.toString('utf8', 0, utf8Length(lead)), utf8Length(lead)];
  const escape = String.fromCharCode(rest[1] ?? 0);
  const simple = SIMPLE_ESCAPES[escape];
  if (simple !== undefined) return [simple, 2];
  if (escape === 'x') return hexByteEscapes(rest);
  if (escape === 'u') return utf16Escapes(rest);
  if (escape === 'U') return codePointEscape(rest);
  throw new ParseFailure('unable to unquote');
}

function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead < 0xe0) return 2;
  return lead < 0xf0 ? 3 : 4;
}

// `\xHH`: gtmpl keeps reading 4-byte chunks while 4 bytes remain, without checking that each starts with
// `\x`, so `\x41` is only usable at the end of the string or followed by more escapes.
function hexByteEscapes(rest: Buffer): readonly [string, number] {
  const bytes: number[] = [];
  let length = 0;
  for (; rest.length - length >= 4; length += 4) bytes.push(chunkHex(rest, length + 2, length + 4));
  const text = strictUtf8(Uint8Array.from(bytes));
  if (text === undefined) throw new ParseFailure('unable to unquote');
  return [text, length];
}

// `\uHHHH`: same chunking, then UTF-16 decoding that rejects unpaired surrogates.
function utf16Escapes(rest: Buffer): readonly [string, number] {
  const units: number[] = [];
  let length = 0;
  for (; rest.length - length >= 6; length += 6) units.push(chunkHex(rest, length + 2, length + 6));
  const text = String.fromCharCode(...units);
  if (LONE_SURROGATE.test(text)) throw new ParseFailure('unable to unquote');
  return [text, length];
}

// With the `u` flag a paired surrogate is one code point, so only unpaired halves match.
const LONE_SURROGATE = /\p{Surrogate}/u;

// `\UHHHHHHHH`: only accepted when exactly those ten bytes are left.
function codePointEscape(rest: Buffer): readonly [string, number] {
  const value = rest.length === 10 ? chunkHex(rest, 2, 10) : -1;
  if (value < 0 || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
    throw new ParseFailure('unable to unquote');
  }
  return [String.fromCodePoint(value), 10];
}

/** Rust's `from_str_radix(_, 16)` for unsigned types: an optional `+`, then hex digits. */
function chunkHex(bytes: Buffer, start: number, end: number): number {
  const text = bytes.toString('latin1', start, end);
  if (!/^\+?[0-9a-fA-F]+$/.test(text)) throw new ParseFailure('unable to unquote');
  return parseInt(text, 16);
}

function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** gtmpl's `sprintf`: text between directives is copied verbatim, which is why `%%` survives. */
function printf(format: string, args: readonly TmplValue[]): string {
  const cursor = { next: 0 };
  let out = '';
  let copied = 0;
  for (const directive of directives(format)) {
    out += format.slice(copied, directive.start);
    out += formatDirective(format.slice(directive.start + 1, directive.end), directive.verb, args, cursor);
    copied = directive.end + 1;
  }
  return out + format.slice(copied);
}

const VERBS = 'vVtTbcdoqxXUeEfFgGsp';

interface Directive {
  readonly start: number;
  readonly end: number;
  readonly verb: string;
}

// A directive runs from `%` to the next verb letter, whatever lies between (so `50% off` is `% o`).
function directives(format: string): Directive[] {
  const found: Directive[] = [];
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== '%') continue;
    if (format[i + 1] === '%') {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < format.length && !VERBS.includes(format.charAt(end))) end++;
    if (end === format.length) throw new PrintFailure(`unable to terminate format arg: ${format.slice(i)}`);
    found.push({ start: i, end, verb: format.charAt(end) });
    i = end;
  }
  return found;
}

interface FormatParams {
  sharp: boolean;
  zero: boolean;
  plus: boolean;
  minus: boolean;
  width: number;
  precision: number | undefined;
}

/** gtmpl's `process_verb`: flags, then `[n]` / `*` / width / `.precision`, then the argument. */
function formatDirective(
  spec: string,
  verb: string,
  args: readonly TmplValue[],
  cursor: { next: number },
): string {
  const params: FormatParams = {
    sharp: false,
    zero: false,
    plus: false,
    minus: false,
    width: 0,
    precision: undefined,
  };
  let pos = readFlags(spec, params);
  if (pos < spec.length) pos = readWidthAndPrecision(spec, pos, params, args, cursor);
  const value = args[selectArgument(parseIndex(spec.slice(pos)), cursor)];
  if (value === undefined) throw new PrintFailure(`unable to process verb: ${spec}`);
  return formatValue(params, verb, value);
}

// An index after width/precision selects the argument without moving past it (gtmpl's rule, not Go's).
function selectArgument(late: { arg: number } | undefined, cursor: { next: number }): number {
  if (late === undefined) return cursor.next++;
  cursor.next = late.arg;
  return late.arg;
}

// The space flag is parsed by gtmpl but never used, so it only needs skipping.
function readFlags(spec: string, params: FormatParams): number {
  for (let i = 0; i < spec.length; i++) {
    const char = spec[i];
    if (char === '#') params.sharp = true;
    else if (char === '0') params.zero = true;
    else if (char === '+') params.plus = true;
    else if (char === '-') {
      params.minus = true;
      params.zero = false;
    } else if (char !== ' ') return i;
  }
  return spec.length;
}

function readWidthAndPrecision(
  spec: string,
  start: number,
  params: FormatParams,
  args: readonly TmplValue[],
  cursor: { next: number },
): number {
  let pos = start;
  let afterIndex = false;
  const widthIndex = parseIndex(spec.slice(pos));
  if (widthIndex !== undefined) {
    pos += widthIndex.length;
    afterIndex = true;
    cursor.next = widthIndex.arg;
  }
  if (spec.startsWith('*', pos)) {
    pos += 1;
    const width = integerArg(args[widthIndex?.arg ?? cursor.next++]);
    if (width !== undefined) {
      if (width < 0) {
        params.minus = true;
        params.zero = false;
      }
      params.width = Math.abs(width);
    }
    afterIndex = false;
  } else {
    const width = parseNumber(spec.slice(pos));
    if (width !== undefined) {
      if (afterIndex) throw new PrintFailure('width after index (e.g. %[3]2d)');
      pos += width.length;
      params.width = width.value;
    }
  }
  // gtmpl only reads a precision when something follows the dot.
  if (pos + 1 < spec.length && spec[pos] === '.') {
    pos += 1;
    if (afterIndex) throw new PrintFailure('precision after index (e.g. %[3].2d)');
    const precisionIndex = parseIndex(spec.slice(pos));
    if (precisionIndex !== undefined) {
      pos += precisionIndex.length;
      afterIndex = true;
      cursor.next = precisionIndex.arg;
    }
    if (spec.startsWith('*', pos)) {
      pos += 1;
      const precision = integerArg(args[precisionIndex?.arg ?? cursor.next++]);
      if (precision !== undefined) params.precision = Math.abs(precision);
    } else {
      const precision = parseNumber(spec.slice(pos));
      if (precision !== undefined) {
        if (afterIndex) throw new PrintFailure('precision after index (e.g. %[3].2d)');
        pos += precision.length;
        params.precision = precision.value;
      }
    }
  }
  return pos;
}

function integerArg(value: TmplValue | undefined): number | undefined {
  return value?.kind === 'number' ? Number(value.value) : undefined;
}

/** `[n]`: Go's 1-based argument index; gtmpl subtracts one, so `[0]` names no argument at all. */
function parseIndex(text: string): { arg: number; length: number } | undefined {
  if (!text.startsWith('[')) return undefined;
  const close = text.indexOf(']');
  if (close === -1) throw new PrintFailure(`missing ] in ${text}`);
  const position = parseUsize(text.slice(1, close), 'index');
  return { arg: position === 0 ? Number.POSITIVE_INFINITY : position - 1, length: close + 1 };
}

function parseNumber(text: string): { value: number; length: number } | undefined {
  const digits = /^[0-9]*/.exec(text)?.[0] ?? '';
  return digits === '' ? undefined : { value: parseUsize(digits, 'width'), length: digits.length };
}

/** Rust's `usize::from_str`, with its error texts. */
function parseUsize(text: string, what: string): number {
  if (text === '') throw new PrintFailure(`unable to parse ${what}: cannot parse integer from empty string`);
  if (!/^\+?[0-9]+$/.test(text))
    throw new PrintFailure(`unable to parse ${what}: invalid digit found in string`);
  const value = BigInt(text);
  if (value > USIZE_MAX)
    throw new PrintFailure(`unable to parse ${what}: number too large to fit in target type`);
  return Number(value);
}

const USIZE_MAX = 2n ** 64n - 1n;

/** gtmpl's `print`: which verbs each value kind accepts, and how each is rendered. */
function formatValue(params: FormatParams, verb: string, value: TmplValue): string {
  const text = formatKnown(params, verb, value);
  if (text === undefined) throw new PrintFailure(`unable to format ${displayValue(value)} as ${verb}`);
  return text;
}

function formatKnown(params: FormatParams, verb: string, value: TmplValue): string | undefined {
  switch (value.kind) {
    case 'number':
      return formatInteger(params, verb, value.value);
    case 'string':
      return formatString(params, verb, value.value);
    case 'bool':
      return verb === 'v' || verb === 't' ? pad(params, String(value.value)) : undefined;
    case 'array':
      return verb === 'v' ? pad(params, `[${value.items.map(displayValue).join(' ')}]`) : undefined;
    case 'map':
      return verb === 'v' ? pad(params, `map[${value.entries.map(displayEntry).join(' ')}]`) : undefined;
    case 'nil':
      return undefined;
  }
}

function formatInteger(params: FormatParams, verb: string, value: bigint): string | undefined {
  // Rust prints negative numbers in binary, octal and hex as their 64-bit two's complement.
  const bits = BigInt.asUintN(64, value);
  switch (verb) {
    case 'b':
      return padIntegral(params, true, '0b', bits.toString(2));
    case 'o':
      return padIntegral(params, true, '0o', bits.toString(8));
    case 'x':
      return padIntegral(params, true, '0x', bits.toString(16));
    case 'X':
      return padIntegral(params, true, '0x', bits.toString(16).toUpperCase());
    case 'd':
      return padIntegral(params, value >= 0n, '', (value < 0n ? -value : value).toString());
    case 'v':
      // gtmpl's signed branch has no `v` arm: only non-negative integers print with %v.
      return value >= 0n ? padIntegral(params, true, '', value.toString()) : undefined;
    case 'c':
      return pad(params, toChar(value));
    case 'q':
      return pad(params, `'${escapeChar(toChar(value))}'`);
    case 'U':
      return pad(params, `U+${bits.toString(16).toUpperCase()}`);
    default:
      return undefined;
  }
}

function formatString(params: FormatParams, verb: string, value: string): string | undefined {
  switch (verb) {
    case 's':
    case 'v':
      return pad(params, value);
    case 'x':
      return byteHex(value);
    case 'X':
      return byteHex(value).toUpperCase();
    case 'q':
      // Rust's escape_default per character, and no surrounding quotes.
      return pad(params, Array.from(value, escapeDefault).join(''));
    default:
      return undefined;
  }
}

// gtmpl writes each byte with `{:x}` straight to the output: no zero padding, no width.
function byteHex(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'), (byte) => byte.toString(16)).join('');
}

function toChar(value: bigint): string {
  const code = Number(BigInt.asUintN(32, value));
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
    throw new PrintFailure(`${BigInt.asUintN(128, value).toString(16).toUpperCase()} is not a valid char`);
  }
  return String.fromCodePoint(code);
}

/** Rust's `char::escape_default`. */
function escapeDefault(char: string): string {
  const named = DEFAULT_ESCAPES[char];
  if (named !== undefined) return named;
  const code = char.codePointAt(0) ?? 0;
  return code >= 0x20 && code <= 0x7e ? char : `\\u{${code.toString(16)}}`;
}

const DEFAULT_ESCAPES: Readonly<Record<string, string>> = {
  '\t': '\\t',
  '\r': '\\r',
  '\n': '\\n',
  "'": "\\'",
  '"': '\\"',
  '\\': '\\\\',
};

// For %q of a number gtmpl strips the braces from `\u{…}`.
function escapeChar(char: string): string {
  const escaped = escapeDefault(char);
  return escaped.startsWith('\\u') ? escaped.replace(/[{}]/g, '') : escaped;
}

/**
 * Rust's `Formatter::pad`, used for everything that is not an integer: precision truncates (in characters),
 * width pads on the right. Rust ignores `+`, `#` and `0` here, and `-` only restates the default.
 */
function pad(params: FormatParams, text: string): string {
  const chars = Array.from(text);
  const kept = params.precision === undefined ? chars : chars.slice(0, params.precision);
  return kept.join('') + ' '.repeat(Math.max(0, params.width - kept.length));
}

/**
 * Rust's `Formatter::pad_integral`. gtmpl only passes the `+ # 0 -` flags on when `+` or `#` is set (its
 * match lists no other combinations), so `%05d` pads with spaces and `%-5d` still aligns right.
 */
function padIntegral(params: FormatParams, nonNegative: boolean, prefix: string, digits: string): string {
  const flagged = params.sharp || params.plus;
  const sign = nonNegative ? (flagged && params.plus ? '+' : '') : '-';
  const head = sign + (flagged && params.sharp ? prefix : '');
  const missing = params.width - head.length - digits.length;
  if (missing <= 0) return head + digits;
  if (flagged && params.zero) return head + '0'.repeat(missing) + digits;
  if (flagged && params.minus) return head + digits + ' '.repeat(missing);
  return ' '.repeat(missing) + head + digits;
}

/** gtmpl_value's `Display`; containers fall back to their derived `Debug`. */
function displayValue(value: TmplValue): string {
  switch (value.kind) {
    case 'nil':
      return 'nil';
    case 'bool':
      return String(value.value);
    case 'string':
      return value.value;
    case 'number':
      return value.value.toString();
    case 'array':
      return debugList(value.items);
    case 'map':
      return debugMap(value.entries);
  }
}

function displayEntry([key, value]: readonly [string, TmplValue]): string {
  return `${key}:${displayValue(value)}`;
}

/** gtmpl_value's derived `Debug`. */
function debugValue(value: TmplValue): string {
  switch (value.kind) {
    case 'nil':
      return 'Nil';
    case 'bool':
      return `Bool(${value.value})`;
    case 'string':
      return `String(${rustDebugString(value.value)})`;
    case 'number':
      return `Number(Number { n: ${value.value < 0n ? 'I' : 'U'}(${value.value}) })`;
    case 'array':
      return `Array(${debugList(value.items)})`;
    case 'map':
      return `Map(${debugMap(value.entries)})`;
  }
}

function debugList(items: readonly TmplValue[]): string {
  return `[${items.map(debugValue).join(', ')}]`;
}

function debugMap(entries: readonly (readonly [string, TmplValue])[]): string {
  return `{${entries.map(([key, value]) => `${rustDebugString(key)}: ${debugValue(value)}`).join(', ')}}`;
}
