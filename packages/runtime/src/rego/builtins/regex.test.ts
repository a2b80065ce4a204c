import { describe, expect, it } from 'vitest';
import { RegoBuiltinError } from './builtin.js';
import { compileRustRegex, regexFindN, regexSplit, regexTemplateMatch } from './regex.js';

function failure(action: () => unknown): { builtin: string; detail: string } {
  try {
    action();
  } catch (error) {
    if (error instanceof RegoBuiltinError) return { builtin: error.builtin, detail: error.detail };
    throw error;
  }
  throw new Error('expected a RegoBuiltinError');
}

describe('regex.split', () => {
  it.each<[string, string, string]>([
    // burrego collects the pieces into one string: the input without its matches.
    [',', 'a,b,c', 'abc'],
    ['\\s+', 'a  b\tc', 'abc'],
    ['x', 'abc', 'abc'],
    ['a*', 'baaab', 'bb'],
  ])('split(%j, %j) = %j', (pattern, text, expected) => {
    expect(regexSplit(pattern, text)).toBe(expected);
  });

  it('reports an invalid pattern', () => {
    expect(failure(() => regexSplit('(', 'x'))).toMatchObject({
      builtin: 'regex.split',
      detail: expect.stringMatching(/^cannot build regex from the given pattern string '\(': /) as unknown,
    });
  });
});

describe('regex.find_n', () => {
  it.each<[string, string, number, string[]]>([
    ['a.', 'paranormal', 1, ['ar']],
    ['a.', 'paranormal', 2, ['ar', 'an']],
    ['a.', 'paranormal', 10, ['ar', 'an', 'al']],
    ['a.', 'paranormal', -1, ['ar', 'an', 'al']],
    ['nomatch', 'paranormal', -1, []],
    ['a.', 'paranormal', 0, []],
    // Other negative counts wrap to a huge usize in burrego: all matches.
    ['a.', 'paranormal', -5, ['ar', 'an', 'al']],
    // Rust skips an empty match right where the previous match ended; JS would report four matches.
    ['a*', 'baaab', -1, ['', 'aaa', '']],
    ['', 'ab', -1, ['', '', '']],
  ])('find_n(%j, %j, %j) = %j', (pattern, text, count, expected) => {
    expect(regexFindN(pattern, text, count)).toEqual(expected);
  });

  it('rejects a count that is not an integer', () => {
    expect(failure(() => regexFindN('a', 'a', 1.5)).detail).toBe('3rd parameter is not a number');
    expect(failure(() => regexFindN('a', 'a')).detail).toBe('Wrong number of arguments given to ');
  });
});

describe('Rust regex semantics', () => {
  it.each<[string, string, string[]]>([
    // \w, \d, \s and \b are Unicode-aware in Rust.
    ['\\w+', 'héllo wörld', ['héllo', 'wörld']],
    ['\\d+', 'x٣٤y', ['٣٤']],
    ['\\bé', 'é aé', ['é']],
    ['[\\w-]+', 'añ-b c', ['añ-b', 'c']],
    // `.` only excludes `\n`.
    ['.', 'a\rb\n', ['a', '\r', 'b']],
    ['(?s).', '\n', ['\n']],
    ['(?i)abc', 'ABC abc', ['ABC', 'abc']],
    ['(?m)^\\w', 'a\nb\rc', ['a', 'b']],
    ['\\Aa', 'aa', ['a']],
    ['a\\z', 'aa', ['a']],
    ['(?P<x>a)b', 'ab', ['ab']],
    ['[[:digit:]]+', 'ab123', ['123']],
    ['\\pL+', 'ab1', ['ab']],
    ['\\p{Greek}+', 'xαβ', ['αβ']],
    ['\\x{41}\\x42', 'AB', ['AB']],
    ['[]a]+', 'a]b', ['a]']],
    ['a{2}', 'aaa', ['aa']],
    ['\\#\\&\\~\\-', '#&~-', ['#&~-']],
    ['a]', 'a]', ['a]']],
  ])('%j finds %j', (pattern, text, expected) => {
    expect(regexFindN(pattern, text, -1)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['a(?=b)', 'look-around, including look-ahead and look-behind, is not supported'],
    ['(?<!a)b', 'look-around, including look-ahead and look-behind, is not supported'],
    ['(a)\\1', 'backreferences are not supported'],
    ['a(?i)b', 'inline flags are only supported at the start of the pattern'],
    ['(?x)a b', 'unsupported flags (?x)'],
    ['[a&&b]', 'class set operations are not supported'],
    ['[\\W]', '\\W inside a character class is not supported'],
    ['\\q', 'unrecognized escape sequence \\q'],
  ])('rejects %j', (pattern, message) => {
    expect(() => compileRustRegex(pattern)).toThrow(message);
  });
});

describe('regex.template_match', () => {
  it.each<[string, string, string, string, boolean]>([
    ['urn:foo:bar:baz', 'urn:foo:bar:baz', '{', '}', true],
    ['urn:foo:{.*}', 'urn:foo:bar:baz', '{', '}', true],
    ['urn:foo:<.*>', 'urn:foo:bar:baz', '<', '>', true],
    ['urn:foo:{.*}', 'urn:foo:{.*}', '<', '>', true],
    [
      'urn:foo:test:section-<[0-9]{2}>:alert-<[0-9]{4}>',
      'urn:foo:test:section-42:alert-1234',
      '<',
      '>',
      true,
    ],
    ['urn:foo:{.*}', 'urn:bar:x', '{', '}', false],
    // The search is unanchored.
    ['foo', 'xfoox', '{', '}', true],
    // Literal parts are escaped, Rust meta characters included.
    ['a.b#c~d&e-f', 'a.b#c~d&e-f', '{', '}', true],
    ['a.b', 'axb', '{', '}', false],
    // Delimiters nest, and the inner ones are dropped: `{a{2}}` is the regex `a2`.
    ['x{a{2}}y', 'xa2y', '{', '}', true],
    ['x{a{2}}y', 'xaay', '{', '}', false],
  ])('template_match(%j, %j, %j, %j) = %j', (template, text, start, end, expected) => {
    expect(regexTemplateMatch(template, text, start, end)).toBe(expected);
  });

  it('requires single-byte delimiters', () => {
    expect(failure(() => regexTemplateMatch('a', 'a', '{{', '}')).detail).toBe(
      '3rd parameter has to be exactly one character long',
    );
    expect(failure(() => regexTemplateMatch('a', 'a', '{', 'é')).detail).toBe(
      '4th parameter has to be exactly one character long',
    );
  });

  it('reports an invalid regex under the name `regex`', () => {
    expect(failure(() => regexTemplateMatch('{(}', 'a', '{', '}'))).toMatchObject({
      builtin: 'regex',
      detail: expect.stringMatching(/^tried to initialize an invalid regular expression: /) as unknown,
    });
  });
});
