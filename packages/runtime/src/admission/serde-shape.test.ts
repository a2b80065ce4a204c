import { describe, expect, it } from 'vitest';
import {
  ShapeMismatch,
  describeUnexpected,
  objectMembers,
  optional,
  readBoolean,
  readI32,
  readList,
  readString,
  readStringMap,
  readStruct,
  readStructValue,
  readU16,
  readVariant,
  required,
} from './serde-shape.js';
import type { StructFields } from './serde-shape.js';

describe('describeUnexpected', () => {
  it.each([
    [null, undefined, 'null'],
    [true, undefined, 'boolean `true`'],
    [7, undefined, 'integer `7`'],
    [7, '7.0', 'floating point `7.0`'],
    [700, '7e2', 'floating point `700.0`'],
    [1.5, undefined, 'floating point `1.5`'],
    ['a"b', undefined, 'string "a\\"b"'],
    [[1], undefined, 'sequence'],
    [{ a: 1 }, undefined, 'map'],
  ])('renders %j (source %s) as serde_json does', (value, raw, expected) => {
    expect(describeUnexpected(value, raw)).toBe(expected);
  });
});

describe('scalar readers', () => {
  it('reads booleans and strings, naming the expected type otherwise', () => {
    expect(readBoolean(false, undefined)).toBe(false);
    expect(() => readBoolean('true', undefined)).toThrow('invalid type: string "true", expected a boolean');
    expect(readString('x', undefined)).toBe('x');
    expect(() => readString(1, undefined)).toThrow('invalid type: integer `1`, expected a string');
  });

  it('reads u16 within 0..65535 only, and only from integer literals', () => {
    expect(readU16(0, '0')).toBe(0);
    expect(readU16(65535, '65535')).toBe(65535);
    expect(() => readU16(65536, '65536')).toThrow('invalid value: integer `65536`, expected u16');
    expect(() => readU16(-1, '-1')).toThrow('invalid value: integer `-1`, expected u16');
    expect(() => readU16(403, '403.0')).toThrow('invalid type: floating point `403.0`, expected u16');
    expect(() => readU16(403.5, undefined)).toThrow('invalid type: floating point `403.5`, expected u16');
    expect(() => readU16('403', undefined)).toThrow('invalid type: string "403", expected u16');
  });

  it('reads i32 within its range', () => {
    expect(readI32(-5, undefined)).toBe(-5);
    expect(() => readI32(2 ** 31, undefined)).toThrow('invalid value: integer `2147483648`, expected i32');
  });

  it('reads unit enum variants', () => {
    const readMode = readVariant(['Success', 'Failure'] as const);
    expect(readMode('Failure', undefined)).toBe('Failure');
    expect(() => readMode('Ok', undefined)).toThrow('unknown variant `Ok`, expected `Success` or `Failure`');
    expect(() => readVariant(['a', 'b', 'c'])('d', undefined)).toThrow(
      'unknown variant `d`, expected one of `a`, `b`, `c`',
    );
    expect(() => readVariant(['JSONPatch'])(1, undefined)).toThrow(
      'invalid type: integer `1`, expected string or map',
    );
  });
});

describe('collection readers', () => {
  it('reads lists element by element', () => {
    expect(readList(readString)(['a', 'b'], undefined)).toEqual(['a', 'b']);
    expect(() => readList(readString)(['a', 2], undefined)).toThrow(
      'invalid type: integer `2`, expected a string',
    );
    expect(() => readList(readString)('a', undefined)).toThrow(
      'invalid type: string "a", expected a sequence',
    );
  });

  it('reads maps of strings, refusing null values', () => {
    expect(readStringMap({ k: 'v' }, undefined)).toEqual({ k: 'v' });
    expect(() => readStringMap({ k: null }, undefined)).toThrow('invalid type: null, expected a string');
    expect(() => readStringMap([], undefined)).toThrow('invalid type: sequence, expected a map');
  });
});

describe('readStruct', () => {
  interface Sample {
    name: string;
    note?: string;
  }
  const fields: StructFields<Sample> = { name: required(readString), note: optional(readString) };

  it('ignores unknown members and leaves None fields out', () => {
    const result = readStruct(objectMembers({ extra: 1, name: 'n', note: null }, 'Sample'), fields);
    expect(result).toEqual({ name: 'n' });
    expect(Object.keys(result)).toEqual(['name']);
  });

  it('reports a missing required field but not a missing optional one', () => {
    expect(() => readStruct(objectMembers({ note: 'x' }, 'Sample'), fields)).toThrow('missing field `name`');
  });

  it('treats null in a required field as a type error', () => {
    expect(() => readStruct(objectMembers({ name: null }, 'Sample'), fields)).toThrow(
      'invalid type: null, expected a string',
    );
  });

  it('refuses a repeated known field and reports the first problem in document order', () => {
    const members = [
      { key: 'name', value: 'a' },
      { key: 'name', value: 'b' },
    ];
    expect(() => readStruct(members, fields)).toThrow('duplicate field `name`');
    expect(() =>
      readStruct(
        [
          { key: 'note', value: 3 },
          { key: 'name', value: 4 },
        ],
        fields,
      ),
    ).toThrow('invalid type: integer `3`, expected a string');
  });

  it('names the struct when the value is not a map', () => {
    expect(() => objectMembers([1], 'Sample')).toThrow(
      new ShapeMismatch('invalid type: sequence, expected struct Sample'),
    );
    expect(() => readStructValue('Sample', fields)('x', undefined)).toThrow(
      'invalid type: string "x", expected struct Sample',
    );
  });
});
