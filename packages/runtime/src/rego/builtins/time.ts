/**
 * `time.now_ns`, `time.parse_rfc3339_ns`, `time.date` as burrego implements them
 * (`crates/burrego/src/builtins/time.rs`, chrono and chrono-tz).
 *
 * Nanosecond timestamps exceed 2^53, and opa-wasm moves builtin values as JS numbers, so results are
 * exact only to about a quarter of a microsecond.
 */
import { asI64, expectArity, expectString, isJsonArray, RegoBuiltinError } from './builtin.js';

export function timeNowNs(...args: unknown[]): number {
  expectArity('time.now_ns', args, 0, 'wrong number of arguments given');
  // burrego reads the clock on every call; OPA would freeze it for the whole evaluation.
  return Date.now() * 1e6;
}

/**
 * chrono's strict `DateTime::parse_from_rfc3339`: `T`, `t` or a space between date and time, any number of
 * fraction digits (nanoseconds kept), `Z`/`z` or a `±HH:MM` offset up to 23:59 (a Unicode minus counts),
 * and second 60 as a leap second.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+\-\u2212])(\d{2}):([0-5]\d))$/u;

export function timeParseRfc3339Ns(...args: unknown[]): number | null {
  const name = 'time.parse_rfc3339_ns';
  expectArity(name, args, 1, 'wrong number of arguments given');
  const value = expectString(name, args[0], '1st parameter is not a string');
  const nanos = rfc3339Nanos(value);
  if (nanos === undefined) throw new RegoBuiltinError(name, `: cannot convert ${value}: ParseError(Invalid)`);
  // `timestamp_nanos_opt()` is `None` outside i64 nanoseconds (years 1677-2262), which serialises as null.
  return nanos >= I64_MIN && nanos <= I64_MAX ? Number(nanos) : null;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const MAX_OFFSET_MINUTES = 23 * 60 + 59;

function rfc3339Nanos(value: string): bigint | undefined {
  const match = RFC3339.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', sign, offsetHours, offsetMinutes] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 60) return undefined;
  const offset = sign === undefined ? 0 : Number(offsetHours) * 60 + Number(offsetMinutes);
  if (offset > MAX_OFFSET_MINUTES) return undefined;
  const signedOffset = sign === '+' ? offset : -offset;
  // A leap second (:60) lands on the next minute's first nanoseconds, as chrono's timestamp does.
  const seconds =
    BigInt(daysFromCivil(y, mo, d)) * 86400n + BigInt(h * 3600 + mi * 60 + s - signedOffset * 60);
  return seconds * 1_000_000_000n + BigInt(fraction.slice(0, 9).padEnd(9, '0'));
}

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

/** Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

export function timeDate(...args: unknown[]): [number, number, number] {
  const name = 'time.date';
  expectArity(name, args, 1, 'wrong number of arguments given');
  const [nanos, zone] = dateArgument(name, args[0]);
  // Whole milliseconds, rounded down, so instants before the epoch stay on the right day.
  const instant = new Date(Number(nanos / 1_000_000n - (nanos % 1_000_000n < 0n ? 1n : 0n)));
  if (zone === 'UTC') return [instant.getUTCFullYear(), instant.getUTCMonth() + 1, instant.getUTCDate()];
  if (zone === 'Local') return [instant.getFullYear(), instant.getMonth() + 1, instant.getDate()];
  return zonedDate(name, instant, zone);
}

function dateArgument(name: string, value: unknown): [bigint, string] {
  if (typeof value === 'number') {
    const nanos = asI64(value);
    if (nanos === undefined) throw new RegoBuiltinError(name, '1st parameter is not a number');
    return [nanos, 'UTC'];
  }
  if (!isJsonArray(value)) {
    throw new RegoBuiltinError(name, 'the 1st parameter is neither a number nor an array');
  }
  if (value.length !== 2) throw new RegoBuiltinError(name, 'wrong number of items inside of input array');
  const nanos = asI64(value[0]);
  if (nanos === undefined) throw new RegoBuiltinError(name, '1st array item is not a number');
  return [nanos, expectString(name, value[1], '2nd array item is not a string')];
}

// chrono-tz only knows IANA names (no offsets such as "+01:00", no empty name meaning UTC as in OPA).
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/u;

function zonedDate(name: string, instant: Date, zone: string): [number, number, number] {
  let formatter: Intl.DateTimeFormat | undefined;
  try {
    if (IANA_NAME.test(zone)) {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        calendar: 'gregory',
        numberingSystem: 'latn',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
      });
    }
  } catch {
    // Unknown zone: reported below, like chrono-tz's parse error.
  }
  if (formatter === undefined) {
    throw new RegoBuiltinError(
      name,
      `cannot handle given timezone ${zone}: "'${zone}' is not a valid timezone"`,
    );
  }
  const parts = formatter.formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((candidate) => candidate.type === type)?.value);
  return [part('year'), part('month'), part('day')];
}
