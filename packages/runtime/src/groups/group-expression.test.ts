import { describe, expect, it } from 'vitest';
import { RuntimeError, RuntimeErrorCode } from '../errors.js';
import {
  evaluateGroupExpression,
  MAX_GROUP_EXPRESSION_NESTING,
  parseGroupExpression,
} from './group-expression.js';

const MEMBERS = ['a', 'b', 'c', '_member_2'];

/** Evaluates `text` with members answering from `verdicts`, recording the order members were called in. */
async function evaluate(
  text: string,
  verdicts: Record<string, boolean>,
): Promise<{ value: boolean; calls: string[] }> {
  const calls: string[] = [];
  const value = await evaluateGroupExpression(parseGroupExpression(text, MEMBERS), (member) => {
    calls.push(member);
    const verdict = verdicts[member];
    if (verdict === undefined) throw new Error(`no verdict for ${member}`);
    return Promise.resolve(verdict);
  });
  return { value, calls };
}

function parseError(text: string, members: readonly string[] = MEMBERS): RuntimeError {
  try {
    parseGroupExpression(text, members);
  } catch (error) {
    if (error instanceof RuntimeError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(text)} parsed`);
}

describe('evaluateGroupExpression', () => {
  it.each([
    ['true', {}, true],
    ['false', {}, false],
    ['a()', { a: true }, true],
    ['!a()', { a: true }, false],
    ['!!a()', { a: true }, true],
    ['a() == b()', { a: false, b: false }, true],
    ['a() != b()', { a: false, b: false }, false],
    ['a() && b()', { a: true, b: false }, false],
    ['a() || b()', { a: false, b: true }, true],
    ['_member_2()', { _member_2: true }, true],
  ])('%s is %s', async (text, verdicts, expected) => {
    expect((await evaluate(text, verdicts)).value).toBe(expected);
  });

  it.each([
    // Each case has a value the other grouping would not give.
    ['a() || b() && c()', { a: true, b: false, c: false }, true], // (a || b) && c would be false
    ['a() && b() || c()', { a: false, b: true, c: true }, true], // a && (b || c) would be false
    ['!a() && b()', { a: true, b: false }, false], // !(a && b) would be true
    ['!a() || b()', { a: true, b: true }, true], // !(a || b) would be false
    ['a() == b() && c()', { a: false, b: false, c: false }, false], // a == (b && c) would be true
    ['a() && b() == c()', { a: false, b: false, c: false }, false], // (a && b) == c would be true
    ['a() || b() == c()', { a: true, b: true, c: false }, true], // (a || b) == c would be false
    ['a() != b() || c()', { a: true, b: true, c: true }, true], // a != (b || c) would be false
    // (!a) == b and !(a == b) agree for all booleans, so how `!` binds against `==` cannot show in a value.
    ['!a() == b()', { a: true, b: false }, true],
    ['!(a() && b())', { a: true, b: false }, true],
    ['(a() || b()) && c()', { a: true, b: false, c: false }, false],
  ])('binds %s by precedence (! then ==/!= then && then ||)', async (text, verdicts, expected) => {
    expect((await evaluate(text, verdicts)).value).toBe(expected);
  });

  it('evaluates ==/!= chains left to right, calling every operand', async () => {
    expect(await evaluate('a() == b() != c() == true', { a: true, b: false, c: true })).toEqual({
      value: true, // ((a == b) != c) == true
      calls: ['a', 'b', 'c'],
    });
  });

  it('calls a member only when its value is needed', async () => {
    expect(await evaluate('a() || b()', { a: true, b: true })).toEqual({ value: true, calls: ['a'] });
    expect(await evaluate('a() && b()', { a: false, b: true })).toEqual({ value: false, calls: ['a'] });
    expect(await evaluate('a() && b()', { a: true, b: false })).toEqual({ value: false, calls: ['a', 'b'] });
    expect(await evaluate('a() || b()', { a: false, b: false })).toEqual({
      value: false,
      calls: ['a', 'b'],
    });
    expect(await evaluate('false && a()', {})).toEqual({ value: false, calls: [] });
    expect(await evaluate('true || a()', {})).toEqual({ value: true, calls: [] });
    expect(await evaluate('a() || b() && c()', { a: true, b: true, c: true })).toEqual({
      value: true,
      calls: ['a'],
    });
    expect(await evaluate('(a() || b()) && c()', { a: false, b: false, c: true })).toEqual({
      value: false,
      calls: ['a', 'b'],
    });
  });

  it('evaluates both sides of == and !=', async () => {
    expect(await evaluate('false == a()', { a: false })).toEqual({ value: true, calls: ['a'] });
    expect(await evaluate('a() != b()', { a: true, b: true })).toEqual({ value: false, calls: ['a', 'b'] });
  });

  it('calls each member at most once per evaluation', async () => {
    expect(await evaluate('a() && a() && !(b() && a()) || b() == a()', { a: true, b: false })).toEqual({
      value: true,
      calls: ['a', 'b'],
    });
  });

  it('calls members again in a new evaluation', async () => {
    const expression = parseGroupExpression('a()', MEMBERS);
    let calls = 0;
    const call = (): Promise<boolean> => Promise.resolve(++calls === 1);
    expect(await evaluateGroupExpression(expression, call)).toBe(true);
    expect(await evaluateGroupExpression(expression, call)).toBe(false);
  });

  it('rejects with the error of a failing member', async () => {
    const failure = new Error('member exploded');
    const expression = parseGroupExpression('a() || b()', MEMBERS);
    await expect(evaluateGroupExpression(expression, () => Promise.reject(failure))).rejects.toBe(failure);
  });
});

describe('parseGroupExpression', () => {
  it('accepts whitespace anywhere between tokens', async () => {
    expect((await evaluate(' \n\t!\ta ( ) ==\r\nb(\n)  ', { a: false, b: true })).value).toBe(true);
  });

  it('returns a frozen expression', () => {
    expect(Object.isFrozen(parseGroupExpression('a() && b()', MEMBERS))).toBe(true);
  });

  it.each([
    ['', 'column 1: expected a member call, true, false, "!" or "(" but found end of expression'],
    ['   ', 'column 4: expected a member call, true, false, "!" or "(" but found end of expression'],
    ['d()', 'column 1: expected a member of the group (a, b, c, _member_2) but found "d"'],
    ['a() && A()', 'column 8: expected a member of the group (a, b, c, _member_2) but found "A"'],
    ['a', 'column 2: expected "(" to call member "a" but found end of expression'],
    ['a && b()', 'column 3: expected "(" to call member "a" but found "&&"'],
    ['a(', 'column 3: expected ")" but found end of expression'],
    ['a(b())', 'column 3: expected ")" but found "b"; members take no arguments'],
    ['a(true)', 'column 3: expected ")" but found "true"; members take no arguments'],
    ['a() &&', 'column 7: expected a member call, true, false, "!" or "(" but found end of expression'],
    ['a() && || b()', 'column 8: expected a member call, true, false, "!" or "(" but found "||"'],
    ['== a()', 'column 1: expected a member call, true, false, "!" or "(" but found "=="'],
    ['a() && 1', 'column 8: expected a member call, true, false, "!" or "(" but found "1"'],
    ['a() & b()', 'column 5: expected an operator (==, !=, &&, ||) or end of expression but found "&"'],
    ['a() = b()', 'column 5: expected an operator (==, !=, &&, ||) or end of expression but found "="'],
    ['a() b()', 'column 5: expected an operator (==, !=, &&, ||) or end of expression but found "b"'],
    ['true false', 'column 6: expected an operator (==, !=, &&, ||) or end of expression but found "false"'],
    ['()', 'column 2: expected a member call, true, false, "!" or "(" but found ")"'],
    [
      '(a() && b()',
      'column 12: expected an operator (==, !=, &&, ||) or ")" closing the "(" at column 1 but found end of expression',
    ],
    [
      'a() || (b() c())',
      'column 13: expected an operator (==, !=, &&, ||) or ")" closing the "(" at column 8 but found "c"',
    ],
    [
      'a())',
      'column 4: expected an operator (==, !=, &&, ||) or end of expression but found ")"; it has no matching "("',
    ],
  ])('refuses %j: %s', (text, message) => {
    const error = parseError(text);
    expect(error.code).toBe(RuntimeErrorCode.GroupExpressionInvalid);
    expect(error.message).toBe(message);
  });

  it('says when the group has no members', () => {
    expect(parseError('a()', []).message).toBe(
      'column 1: expected a member of the group (it has none) but found "a"',
    );
  });

  it(`accepts ${MAX_GROUP_EXPRESSION_NESTING} levels of "(" and "!" and refuses one more`, async () => {
    const depth = MAX_GROUP_EXPRESSION_NESTING;
    expect(MAX_GROUP_EXPRESSION_NESTING).toBe(100);
    expect((await evaluate(`${'('.repeat(depth)}a()${')'.repeat(depth)}`, { a: true })).value).toBe(true);
    expect((await evaluate(`${'!'.repeat(depth)}a()`, { a: true })).value).toBe(true);
    expect((await evaluate(`${'!('.repeat(depth / 2)}a()${')'.repeat(depth / 2)}`, { a: true })).value).toBe(
      true,
    );

    const tooDeep = `expected at most ${depth} levels of "(" and "!" but found more`;
    for (const text of [
      `${'('.repeat(depth + 1)}a()${')'.repeat(depth + 1)}`,
      `${'!'.repeat(depth + 1)}a()`,
      `${'(!'.repeat(depth / 2)}(a())${')'.repeat(depth / 2)}`,
    ]) {
      const error = parseError(text);
      expect(error.code).toBe(RuntimeErrorCode.GroupExpressionInvalid);
      expect(error.message).toBe(`column ${depth + 1}: ${tooDeep}`);
    }
  });

  it('refuses hostile nesting without overflowing the stack', () => {
    expect(parseError('('.repeat(100_000)).message).toBe(
      `column ${MAX_GROUP_EXPRESSION_NESTING + 1}: expected at most 100 levels of "(" and "!" but found more`,
    );
  });

  it('parses and evaluates long flat chains without deep recursion', async () => {
    const terms = 50_000;
    const chains = [
      Array.from({ length: terms }, () => 'a()').join(' && '),
      Array.from({ length: terms }, () => 'b()').join(' || '),
      Array.from({ length: terms }, () => 'a()').join(' == '),
    ];
    for (const text of chains) {
      const { value } = await evaluate(text, { a: true, b: false });
      expect(value).toBe(!text.includes('||'));
    }
  });
});
