/**
 * `semver.is_valid` and `semver.compare` as burrego implements them (`crates/burrego/src/builtins/semver.rs`,
 * Rust's semver 1.x crate).
 *
 * The npm `semver` package is deliberately not used: it accepts a leading `v`/`=` and surrounding blanks,
 * caps lengths, and compares without build metadata — whereas burrego uses `Version::cmp`, which orders
 * build metadata too (`1.0.0+a` < `1.0.0+b`).
 */
import { expectArity, expectString, RegoBuiltinError } from './builtin.js';

interface Version {
  readonly core: readonly [bigint, bigint, bigint];
  readonly pre: string;
  readonly build: string;
}

export function semverIsValid(...args: unknown[]): boolean {
  const name = 'semver.is_valid';
  expectArity(name, args, 1, 'wrong number of arguments');
  return parseVersion(expectString(name, args[0], '1st parameter is not a string')) !== undefined;
}

export function semverCompare(...args: unknown[]): number {
  const name = 'semver.compare';
  expectArity(name, args, 2, 'wrong number of arguments');
  const left = expectString(name, args[0], '1st parameter is not a string');
  const right = expectString(name, args[1], '2nd parameter is not a string');
  const a = parseVersion(left);
  if (a === undefined)
    throw new RegoBuiltinError(name, `first argument is not a valid semantic version: ${left}`);
  const b = parseVersion(right);
  if (b === undefined)
    throw new RegoBuiltinError(name, `second argument is not a valid semantic version: ${right}`);
  return compareVersions(a, b);
}

// Strict SemVer 2.0: no leading zeros in the numbers or in numeric pre-release identifiers, no empty
// identifiers, nothing before or after.
const VERSION =
  /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
const U64_MAX = 2n ** 64n - 1n;

function parseVersion(text: string): Version | undefined {
  const match = VERSION.exec(text);
  if (match === null) return undefined;
  const [, major = '', minor = '', patch = '', pre = '', build = ''] = match;
  const core = [BigInt(major), BigInt(minor), BigInt(patch)] as const;
  if (core.some((part) => part > U64_MAX)) return undefined;
  if (pre.split('.').some((id) => id.length > 1 && /^0[0-9]+$/.test(id))) return undefined;
  return { core, pre, build };
}

/** semver 1.x's derived `Ord`: major, minor, patch, then pre-release, then build metadata. */
function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const order = compareBigInts(a.core[i] ?? 0n, b.core[i] ?? 0n);
    if (order !== 0) return order;
  }
  return comparePrerelease(a.pre, b.pre) || compareBuild(a.build, b.build);
}

// A version without pre-release ranks above any pre-release of it.
function comparePrerelease(a: string, b: string): number {
  if (a === '' || b === '') return a === b ? 0 : a === '' ? 1 : -1;
  return compareIdentifiers(a.split('.'), b.split('.'), compareNumericByValue);
}

// No build metadata ranks below any; numeric identifiers may carry leading zeros here.
function compareBuild(a: string, b: string): number {
  if (a === '' || b === '') return a === b ? 0 : a === '' ? -1 : 1;
  return compareIdentifiers(a.split('.'), b.split('.'), compareNumericWithZeros);
}

function compareIdentifiers(
  a: readonly string[],
  b: readonly string[],
  compareNumeric: (x: string, y: string) => number,
): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    const xNumeric = /^[0-9]+$/.test(x);
    const yNumeric = /^[0-9]+$/.test(y);
    // Numeric identifiers rank below alphanumeric ones; alphanumerics compare as ASCII.
    const order =
      xNumeric && yNumeric ? compareNumeric(x, y) : xNumeric ? -1 : yNumeric ? 1 : compareAscii(x, y);
    if (order !== 0) return order;
  }
  return Math.sign(a.length - b.length);
}

function compareNumericByValue(x: string, y: string): number {
  return Math.sign(x.length - y.length) || compareAscii(x, y);
}

// semver 1.x: by value (length without leading zeros, then digits), then the longer spelling is greater.
function compareNumericWithZeros(x: string, y: string): number {
  return compareNumericByValue(x.replace(/^0+/, ''), y.replace(/^0+/, '')) || Math.sign(x.length - y.length);
}

function compareAscii(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareBigInts(x: bigint, y: bigint): number {
  return x < y ? -1 : x > y ? 1 : 0;
}
