/**
 * `base64url.encode_no_pad`, `urlquery.*` and `hex.*` as burrego implements them
 * (`crates/burrego/src/builtins/encoding.rs`).
 *
 * burrego's urlquery builtins do not form-encode: they hand `input=<value>` to the `url` crate's
 * `Url::set_query` and read the serialised query back. That keeps `&`, `=`, `+` and `%` as they are, encodes
 * only controls, space, `"`, `#`, `<`, `>`, `'` and non-ASCII bytes, and silently drops tabs and newlines.
 * Decoding reads the query back with `query_pairs()` (form decoding: `+` is a space).
 */
import { compareRustStrings, expectArity, expectString, isJsonObject, RegoBuiltinError } from './builtin.js';

export function base64UrlEncodeNoPad(...args: unknown[]): string {
  const name = 'base64url.encode_no_pad';
  expectArity(name, args, 1, 'wrong number of arguments');
  return Buffer.from(expectString(name, args[0], '1st parameter is not a string'), 'utf8').toString(
    'base64url',
  );
}

const INPUT_KEY = 'input=';

export function urlQueryEncode(...args: unknown[]): string {
  const name = 'urlquery.encode';
  expectArity(name, args, 1, 'wrong number of arguments');
  const input = expectString(name, args[0], '1st parameter is not a string');
  return serializeQuery(INPUT_KEY + input).slice(INPUT_KEY.length);
}

export function urlQueryDecode(...args: unknown[]): string {
  const name = 'urlquery.decode';
  expectArity(name, args, 1, 'wrong number of arguments');
  const input = expectString(name, args[0], '1st parameter is not a string');
  // An unescaped `&` in the input splits off another pair, which burrego rejects.
  const pairs = parseQueryPairs(serializeQuery(INPUT_KEY + input));
  const [pair] = pairs;
  if (pair === undefined || pairs.length !== 1) throw new RegoBuiltinError(name, 'internal error 2');
  return pair[1];
}

export function urlQueryEncodeObject(...args: unknown[]): string {
  const name = 'urlquery.encode_object';
  expectArity(name, args, 1, 'wrong number of arguments');
  const object = args[0];
  if (!isJsonObject(object)) throw new RegoBuiltinError(name, '1st parameter is not an object');
  // Keys and values are joined raw, in serde_json's (sorted) key order, then serialised as one query.
  const pairs = Object.keys(object)
    .sort(compareRustStrings)
    .map((key) => `${key}=${expectString(name, object[key], `the value of key ${key} is not a string`)}`);
  return serializeQuery(pairs.join('&'));
}

export function urlQueryDecodeObject(...args: unknown[]): Record<string, string> {
  expectArity('urlquery.decode_object', args, 1, 'wrong number of arguments');
  // burrego reports this type error under the name `urlquery.decode`.
  const input = expectString('urlquery.decode', args[0], '1st parameter is not a string');
  // Later duplicates win, as they do when burrego collects the pairs into a map.
  return Object.fromEntries(parseQueryPairs(serializeQuery(input)));
}

/** The url crate's query serialisation for a special (https) URL. */
function serializeQuery(query: string): string {
  let out = '';
  for (const byte of Buffer.from(query.replace(/[\t\n\r]/g, ''), 'utf8')) {
    out += escapesInQuery(byte)
      ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
      : String.fromCharCode(byte);
  }
  return out;
}

// WHATWG's special-query percent-encode set: C0 controls, space, `"`, `#`, `<`, `>`, `'`, and non-ASCII.
function escapesInQuery(byte: number): boolean {
  return (
    byte <= 0x20 ||
    byte >= 0x7f ||
    byte === 0x22 ||
    byte === 0x23 ||
    byte === 0x3c ||
    byte === 0x3e ||
    byte === 0x27
  );
}

/** `form_urlencoded::parse`: `&`-separated, empty pieces skipped, split at the first `=`. */
function parseQueryPairs(query: string): [string, string][] {
  return query
    .split('&')
    .filter((piece) => piece !== '')
    .map((piece) => {
      const equals = piece.indexOf('=');
      return equals === -1
        ? [formDecode(piece), '']
        : [formDecode(piece.slice(0, equals)), formDecode(piece.slice(equals + 1))];
    });
}

// `+` is a space; `%XY` decodes when both digits are hex and stays literal otherwise; invalid UTF-8 becomes
// U+FFFD, as with Rust's `from_utf8_lossy`.
function formDecode(text: string): string {
  const bytes: number[] = [];
  const source = Buffer.from(text.replace(/\+/g, ' '), 'utf8');
  for (let i = 0; i < source.length; i++) {
    const byte = source[i] ?? 0;
    const hex = source.toString('latin1', i + 1, i + 3);
    if (byte === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function hexEncode(...args: unknown[]): string {
  const name = 'hex.encode';
  expectArity(name, args, 1, 'wrong number of arguments');
  const input = expectString(name, args[0], '1st parameter is not a string');
  // burrego formats each byte with `{:x?}`, which does not zero-pad: "\n" encodes as "a", not "0a".
  return Array.from(Buffer.from(input, 'utf8'), (byte) => byte.toString(16)).join('');
}

export function hexDecode(...args: unknown[]): string {
  const name = 'hex.decode';
  expectArity(name, args, 1, 'wrong number of arguments');
  const input = Buffer.from(expectString(name, args[0], '1st parameter is not a string'), 'utf8');
  // burrego slices two bytes at a time and panics on an odd length.
  if (input.length % 2 !== 0)
    throw new RegoBuiltinError(name, 'odd number of hex digits (burrego panics here)');
  const bytes: number[] = [];
  for (let i = 0; i < input.length; i += 2) {
    // `u8::from_str_radix` takes an optional `+` before the digits.
    const pair = input.toString('latin1', i, i + 2);
    if (!/^(?:[0-9a-fA-F]{2}|\+[0-9a-fA-F])$/.test(pair)) {
      throw new RegoBuiltinError(name, 'cannot parse input - ParseIntError { kind: InvalidDigit }');
    }
    bytes.push(parseInt(pair, 16));
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw new RegoBuiltinError(name, 'cannot parse string - invalid UTF-8');
  }
}
