import { describe, expect, it } from 'vitest';
import { compareUtf8, isJsonObject, jsonTypeName, withoutUndefined } from './json-value.js';

describe('isJsonObject', () => {
  it('accepts maps only', () => {
    expect(isJsonObject({})).toBe(true);
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
    expect(isJsonObject('map')).toBe(false);
  });
});

describe('jsonTypeName', () => {
  it.each([
    [null, 'null'],
    [[1], 'list'],
    [{ a: 1 }, 'map'],
    ['x', 'string'],
    [1.5, 'number'],
    [true, 'boolean'],
  ])('names %j a %s', (value, name) => {
    expect(jsonTypeName(value)).toBe(name);
  });
});

describe('withoutUndefined', () => {
  it('drops undefined keys, keeps null and the key order', () => {
    const result = withoutUndefined({ b: 1, a: undefined, c: null, d: 0 });
    expect(Object.keys(result)).toEqual(['b', 'c', 'd']);
    expect(result).toEqual({ b: 1, c: null, d: 0 });
  });
});

describe('compareUtf8', () => {
  it('orders by UTF-8 bytes, as Rust BTreeMap does, not by UTF-16 code units', () => {
    // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F600 (4 bytes, F0 ...); in UTF-16 the emoji's
    // high surrogate D83D sorts first.
    const keys = ['\u{1F600}', '\uFF5E', 'a'];
    expect([...keys].sort()).toEqual(['a', '\u{1F600}', '\uFF5E']);
    expect([...keys].sort(compareUtf8)).toEqual(['a', '\uFF5E', '\u{1F600}']);
  });
});
