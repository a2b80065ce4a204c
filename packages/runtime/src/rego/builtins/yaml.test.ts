import { describe, expect, it } from 'vitest';
import { RegoBuiltinError } from './builtin.js';
import { yamlIsValid, yamlMarshal, yamlUnmarshal } from './yaml.js';

describe('yaml.marshal', () => {
  it('lays out documents like serde_yaml', () => {
    expect(yamlMarshal({ number: 42, list: [1, 2, 3], hello: 'world' })).toBe(
      'hello: world\nlist:\n- 1\n- 2\n- 3\nnumber: 42\n',
    );
    expect(
      yamlMarshal({ items: [{ b: 2, a: 1 }], nested: { inner: { x: null } }, empty: {}, none: [] }),
    ).toBe('empty: {}\nitems:\n- a: 1\n  b: 2\nnested:\n  inner:\n    x: null\nnone: []\n');
  });

  it('orders keys by their bytes, integer-like ones included', () => {
    expect(yamlMarshal({ b: 1, 10: 2, 9: 3 })).toBe("'10': 2\n'9': 3\nb: 1\n");
  });

  it.each<[unknown, string]>([
    ['hello', 'hello\n'],
    ['true', "'true'\n"],
    ['123', "'123'\n"],
    ['0123', "'0123'\n"],
    ['', "''\n"],
    ['a: b', "'a: b'\n"],
    ['line1\nline2', '|-\n  line1\n  line2\n'],
    [null, 'null\n'],
    [false, 'false\n'],
    [-3, '-3\n'],
    [1.5, '1.5\n'],
  ])('marshals %j as %j', (value, expected) => {
    expect(yamlMarshal(value)).toBe(expected);
  });
});

describe('yaml.unmarshal', () => {
  it('parses a document into JSON values', () => {
    expect(yamlUnmarshal('---\nhello: world\nlist:\n  - 1\n  - 2\n  - 3\nnumber: 42\n')).toEqual({
      hello: 'world',
      number: 42,
      list: [1, 2, 3],
    });
  });

  it.each<[string, unknown]>([
    ['', null],
    ['~', null],
    ['yes', 'yes'],
    ['True', true],
    ['0o17', 15],
    ['0x1F', 31],
    ['+12', 12],
    // serde_yaml reads leading-zero digits as strings.
    ['017', '017'],
    ['00', '00'],
    ['1e3', 1000],
    ['2001-12-14', '2001-12-14'],
    // serde_json cannot hold NaN or infinities; they become null.
    ['.nan', null],
    ['[.inf, -.inf]', [null, null]],
    // Merge keys are not applied.
    ['a: &x {k: 1}\nb:\n  <<: *x', { a: { k: 1 }, b: { '<<': { k: 1 } } }],
  ])('parses %j as %j', (input, expected) => {
    expect(yamlUnmarshal(input)).toEqual(expected);
  });

  it.each<[string]>([['a: 1\n---\nb: 2'], ['a: 1\na: 2'], ['a: [1, 2']])('rejects %j', (input) => {
    expect(() => yamlUnmarshal(input)).toThrow(RegoBuiltinError);
    expect(() => yamlUnmarshal(input)).toThrow(
      /^Builtin error \["yaml.unmarshal"\]: "cannot convert input object to json - /,
    );
  });

  it('rejects non-strings', () => {
    expect(() => yamlUnmarshal(1)).toThrow(
      'Builtin error ["yaml.unmarshal"]: "1st parameter is not a string"',
    );
  });
});

describe('yaml.is_valid', () => {
  it.each<[string, boolean]>([
    ['some_key: [1,2]\nsome_other_key: [3.0, 4.0]', true],
    ['some_key: [1,2', false],
    ['a: 1\na: 2', false],
    ['a: 1\n---\nb: 2', false],
    ['', true],
  ])('%j → %j', (input, expected) => {
    expect(yamlIsValid(input)).toBe(expected);
  });

  it('rejects non-strings with burrego wording', () => {
    expect(() => yamlIsValid(1)).toThrow('Builtin error ["yaml.is_valid"]: "parameter is not a string"');
  });
});
