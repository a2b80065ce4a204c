import { describe, expect, it } from 'vitest';
import { RegoBuiltinError } from './builtin.js';
import { globQuoteMeta } from './glob.js';

describe('glob.quote_meta', () => {
  it.each<[string, string]>([
    ['*.domain.com', '\\*.domain.com'],
    ['*.domain-*.com', '\\*.domain-\\*.com'],
    ['domain.com', 'domain.com'],
    ['a?[b]{c}\\d', 'a\\?\\[b\\]\\{c\\}\\\\d'],
  ])('quotes %j as %j', (input, expected) => {
    expect(globQuoteMeta(input)).toBe(expected);
  });

  it('rejects non-strings', () => {
    expect(() => globQuoteMeta(1)).toThrow(RegoBuiltinError);
    expect(() => globQuoteMeta(1)).toThrow(
      'Builtin error ["glob.quote_meta"]: "1st parameter is not a string"',
    );
  });
});
