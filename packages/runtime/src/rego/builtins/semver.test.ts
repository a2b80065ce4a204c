import { describe, expect, it } from 'vitest';
import { RegoBuiltinError } from './builtin.js';
import { semverCompare, semverIsValid } from './semver.js';

describe('semver.is_valid', () => {
  it.each<[string, boolean]>([
    ['1.0.0', true],
    ['1.0.0-rc1', true],
    ['1.2.3-alpha.1+build.001', true],
    ['18446744073709551615.0.0', true],
    ['invalidsemver-1.0.0', false],
    // Rust's semver is strict where npm's is lenient.
    ['v1.0.0', false],
    ['=1.0.0', false],
    [' 1.0.0', false],
    ['1.0', false],
    ['01.0.0', false],
    ['1.0.0-01', false],
    ['1.0.0-', false],
    ['1.0.0+', false],
    ['1.0.0-a..b', false],
    ['18446744073709551616.0.0', false],
  ])('%j → %j', (input, expected) => {
    expect(semverIsValid(input)).toBe(expected);
  });
});

describe('semver.compare', () => {
  it.each<[string, string, number]>([
    ['0.0.1', '0.1.0', -1],
    ['1.0.0-rc1', '1.0.0-rc1', 0],
    ['0.1.0', '0.0.1', 1],
    ['1.0.0-beta1', '1.0.0-alpha3', 1],
    ['1.0.0-rc2', '1.0.0-rc1', 1],
    ['1.0.0-rc.1', '1.0.0', -1],
    ['1.0.0-1', '1.0.0-a', -1],
    ['1.0.0-2', '1.0.0-10', -1],
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['10.0.0', '9.0.0', 1],
    // burrego uses `Version::cmp`, which also orders build metadata.
    ['1.0.0+a', '1.0.0+b', -1],
    ['1.0.0', '1.0.0+1', -1],
    ['1.0.0+01', '1.0.0+1', 1],
    ['1.0.0+2', '1.0.0+10', -1],
    ['1.0.0+1', '1.0.0+a', -1],
  ])('compare(%j, %j) = %j', (a, b, expected) => {
    expect(semverCompare(a, b)).toBe(expected);
  });

  it('rejects invalid versions, naming the argument', () => {
    expect(() => semverCompare('invalidsemver-1.0.0', '0.1.0')).toThrow(RegoBuiltinError);
    expect(() => semverCompare('invalidsemver-1.0.0', '0.1.0')).toThrow(
      'first argument is not a valid semantic version: invalidsemver-1.0.0',
    );
    expect(() => semverCompare('0.1.0', 'v1')).toThrow('second argument is not a valid semantic version: v1');
    expect(() => semverCompare('0.1.0', 1)).toThrow('2nd parameter is not a string');
  });
});
