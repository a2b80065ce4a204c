import { describe, expect, it } from 'vitest';
import { jsonNestingDepth } from './json-depth.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('jsonNestingDepth', () => {
  it.each([
    ['1', 0],
    ['"[{"', 0],
    ['[]', 1],
    ['{}', 1],
    ['[1, [2], {"a": [3]}]', 3],
    ['{"a": "}}]]", "b": {"c": "\\"[["}}', 2],
    ['{"é[": ["ü{"]}', 2],
    ['[[[]], [[[]]]]', 4],
  ])('%s → %i', (text, depth) => {
    expect(jsonNestingDepth(utf8(text))).toBe(depth);
  });

  it('counts 100,000 levels without recursing', () => {
    const depth = 100_000;
    expect(jsonNestingDepth(utf8('['.repeat(depth) + ']'.repeat(depth)))).toBe(depth);
    expect(jsonNestingDepth(utf8('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)))).toBe(depth);
  });
});
