import { describe, expect, it } from 'vitest';
import { RegoBuiltinError } from './builtin.js';
import { jsonIsValid, jsonPatchApply } from './json.js';

function detailOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof RegoBuiltinError) return error.detail;
    throw error;
  }
  throw new Error('expected a RegoBuiltinError');
}

describe('json.is_valid', () => {
  it.each<[string, boolean]>([
    ['[1,2]', true],
    ['[1,2', false],
    [' {"a": null} ', true],
    ['', false],
    ["{'a': 1}", false],
    ['"\\ud83d\\ude00"', true],
    // serde_json rejects what JSON.parse lets through: overflowing numbers and unpaired surrogates.
    ['1e400', false],
    ['-1e400', false],
    ['"\\ud800"', false],
    ['{"\\udc00": 1}', false],
    ['1e-400', true],
    // serde_json's recursion limit allows 127 levels of nesting.
    ['['.repeat(127) + ']'.repeat(127), true],
    ['['.repeat(128) + ']'.repeat(128), false],
  ])('%j → %j', (input, expected) => {
    expect(jsonIsValid(input)).toBe(expected);
  });

  it('rejects non-strings', () => {
    expect(detailOf(() => jsonIsValid(1))).toBe('1st parameter is not a string');
  });
});

describe('json.patch', () => {
  it('applies RFC 6902 operations', () => {
    expect(jsonPatchApply({ a: { foo: 1 } }, [{ op: 'add', path: '/a/bar', value: 2 }])).toEqual({
      a: { foo: 1, bar: 2 },
    });
    expect(
      jsonPatchApply({ list: [1, 2], x: 'y' }, [
        { op: 'add', path: '/list/-', value: 3 },
        { op: 'remove', path: '/list/0' },
        { op: 'move', from: '/x', path: '/z' },
        { op: 'copy', from: '/z', path: '/w' },
        { op: 'replace', path: '/w', value: 'v' },
        { op: 'test', path: '/z', value: 'y' },
        { op: 'add', path: '/a~1b', value: true },
      ]),
    ).toEqual({ list: [2, 3], z: 'y', w: 'v', 'a/b': true });
  });

  it('leaves its input untouched', () => {
    const document = { a: 1 };
    jsonPatchApply(document, [{ op: 'replace', path: '/a', value: 2 }]);
    expect(document).toEqual({ a: 1 });
  });

  it.each<[unknown[], string]>([
    [[{ op: 'replace', path: '/missing', value: 1 }], 'cannot apply patch: '],
    [[{ op: 'remove', path: '/missing' }], 'cannot apply patch: '],
    [[{ op: 'add', path: '/list/5', value: 1 }], 'cannot apply patch: '],
    [[{ op: 'test', path: '/list', value: [] }], 'cannot apply patch: '],
  ])('reports %j as a patch error', (patch, prefix) => {
    expect(detailOf(() => jsonPatchApply({ list: [1] }, patch))).toMatch(new RegExp(`^${prefix}`));
  });

  it.each<[unknown]>([
    [{ op: 'frobnicate', path: '/a' }],
    [{ op: 'add', path: '/a' }],
    [{ op: 'add', path: 'a', value: 1 }],
    [{ op: 'remove', path: '/a~2' }],
    [{ op: 'move', path: '/a' }],
    ['add'],
  ])('treats malformed operation %j like burrego’s deserialisation panic', (operation) => {
    expect(detailOf(() => jsonPatchApply({ a: 1 }, [operation]))).toBe(
      'malformed JSON patch operation (burrego panics here)',
    );
  });

  it('checks its parameters with burrego wording', () => {
    expect(detailOf(() => jsonPatchApply([], []))).toBe('1st parameter is not an object');
    expect(detailOf(() => jsonPatchApply({}, {}))).toBe('2nd parameter is not an array');
    expect(detailOf(() => jsonPatchApply({}))).toBe('wrong number of arguments');
  });
});
