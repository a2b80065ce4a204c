import { describe, expect, it } from 'vitest';
import { RegoBuiltinError } from './builtin.js';
import {
  base64UrlEncodeNoPad,
  hexDecode,
  hexEncode,
  urlQueryDecode,
  urlQueryDecodeObject,
  urlQueryEncode,
  urlQueryEncodeObject,
} from './encoding.js';

function failure(action: () => unknown): { builtin: string; detail: string } {
  try {
    action();
  } catch (error) {
    if (error instanceof RegoBuiltinError) return { builtin: error.builtin, detail: error.detail };
    throw error;
  }
  throw new Error('expected a RegoBuiltinError');
}

describe('base64url.encode_no_pad', () => {
  it('uses the URL-safe alphabet without padding', () => {
    expect(base64UrlEncodeNoPad('hello?>')).toBe('aGVsbG8_Pg');
    expect(base64UrlEncodeNoPad('é')).toBe('w6k');
  });

  it('rejects non-strings and wrong arity', () => {
    expect(failure(() => base64UrlEncodeNoPad(1)).detail).toBe('1st parameter is not a string');
    expect(failure(() => base64UrlEncodeNoPad('a', 'b')).detail).toBe('wrong number of arguments');
  });
});

describe('urlquery.encode', () => {
  it.each<[string, string]>([
    ['español', 'espa%C3%B1ol'],
    // Only the query percent-encode set is escaped; `&`, `=`, `+` and `%` pass through.
    ['a b&c=d+e%f', 'a%20b&c=d+e%f'],
    ['#\'"<>', '%23%27%22%3C%3E'],
    ['\u0001\u007f', '%01%7F'],
    // The url crate drops tabs and newlines.
    ['a\tb\nc\rd', 'abcd'],
  ])('encodes %j as %j', (input, expected) => {
    expect(urlQueryEncode(input)).toBe(expected);
  });
});

describe('urlquery.decode', () => {
  it.each<[string, string]>([
    ['espa%C3%B1ol', 'español'],
    ['a+b%20c', 'a b c'],
    ['x=y', 'x=y'],
    ['a&', 'a'],
    ['100%', '100%'],
    ['%zz', '%zz'],
    ['%FF', '\uFFFD'],
  ])('decodes %j as %j', (input, expected) => {
    expect(urlQueryDecode(input)).toBe(expected);
  });

  it('rejects input that splits into several pairs', () => {
    expect(failure(() => urlQueryDecode('a&b'))).toEqual({
      builtin: 'urlquery.decode',
      detail: 'internal error 2',
    });
  });
});

describe('urlquery.encode_object', () => {
  it('joins pairs in key order and encodes them as one query', () => {
    expect(urlQueryEncodeObject({ name: 'Rafael Fernández López', language: 'español' })).toBe(
      'language=espa%C3%B1ol&name=Rafael%20Fern%C3%A1ndez%20L%C3%B3pez',
    );
    expect(urlQueryEncodeObject({ b: 'x&y', 10: '1', 9: '2' })).toBe('10=1&9=2&b=x&y');
    expect(urlQueryEncodeObject({})).toBe('');
  });

  it('rejects non-string values, reporting the first key in order', () => {
    expect(failure(() => urlQueryEncodeObject({ name: 'x', awesomeness: 100, zzz: 1 })).detail).toBe(
      'the value of key awesomeness is not a string',
    );
    expect(failure(() => urlQueryEncodeObject(['a'])).detail).toBe('1st parameter is not an object');
  });
});

describe('urlquery.decode_object', () => {
  it('collects the pairs, later duplicates winning', () => {
    expect(urlQueryDecodeObject('language=espa%C3%B1ol&name=Rafael%20Fern%C3%A1ndez%20L%C3%B3pez')).toEqual({
      language: 'español',
      name: 'Rafael Fernández López',
    });
    expect(urlQueryDecodeObject('a=1&a=2&&b&c=x=y')).toEqual({ a: '2', b: '', c: 'x=y' });
  });

  it('keeps __proto__ as an ordinary key', () => {
    const decoded = urlQueryDecodeObject('__proto__=x');
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.entries(decoded)).toEqual([['__proto__', 'x']]);
  });

  it('reports a type error under the name burrego uses', () => {
    expect(failure(() => urlQueryDecodeObject(1))).toEqual({
      builtin: 'urlquery.decode',
      detail: '1st parameter is not a string',
    });
  });
});

describe('hex', () => {
  it.each<[string, string]>([
    ['hello', '68656c6c6f'],
    // burrego's `{:x?}` does not zero-pad bytes below 0x10.
    ['\n\t', 'a9'],
    ['é', 'c3a9'],
    ['', ''],
  ])('encodes %j as %j', (input, expected) => {
    expect(hexEncode(input)).toBe(expected);
  });

  it.each<[string, string]>([
    ['68656c6c6f', 'hello'],
    ['C3A9', 'é'],
    ['+a', '\n'],
    ['', ''],
  ])('decodes %j as %j', (input, expected) => {
    expect(hexDecode(input)).toBe(expected);
  });

  it.each<[string, string]>([
    ['abc', 'odd number of hex digits (burrego panics here)'],
    ['zz', 'cannot parse input - ParseIntError { kind: InvalidDigit }'],
    ['-1', 'cannot parse input - ParseIntError { kind: InvalidDigit }'],
    ['ff', 'cannot parse string - invalid UTF-8'],
  ])('fails to decode %j', (input, detail) => {
    expect(failure(() => hexDecode(input))).toEqual({ builtin: 'hex.decode', detail });
  });
});
