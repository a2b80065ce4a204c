import { afterEach, describe, expect, it, vi } from 'vitest';
import { RegoBuiltinError } from './builtin.js';
import { timeDate, timeNowNs, timeParseRfc3339Ns } from './time.js';

describe('time.now_ns', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the clock in nanoseconds on every call', () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_123);
    expect(timeNowNs()).toBe(1_700_000_000_123_000_000);
    vi.setSystemTime(1_700_000_000_124);
    expect(timeNowNs()).toBe(1_700_000_000_124_000_000);
  });

  it('takes no arguments', () => {
    expect(() => timeNowNs(1)).toThrow('Builtin error ["time.now_ns"]: "wrong number of arguments given"');
  });
});

describe('time.parse_rfc3339_ns', () => {
  it.each<[string, string | null]>([
    ['1970-01-01T00:00:00Z', '0'],
    ['2021-01-01T00:00:00.123456789+01:00', '1609455600123456789'],
    ['1970-01-01t00:00:01z', '1000000000'],
    ['1970-01-01 00:00:01.5Z', '1500000000'],
    ['1969-12-31T23:59:59.999999999Z', '-1'],
    // Fraction digits beyond nanoseconds are dropped.
    ['1970-01-01T00:00:00.0000000019Z', '1'],
    ['1970-01-01T00:00:00-00:30', '1800000000000'],
    ['1970-01-01T00:00:00\u221201:00', '3600000000000'],
    // A leap second lands on the next minute.
    ['1970-01-01T00:00:60Z', '60000000000'],
    ['2020-02-29T00:00:00Z', '1582934400000000000'],
    // Outside i64 nanoseconds chrono yields no timestamp, which burrego serialises as null.
    ['1600-01-01T00:00:00Z', null],
    ['2262-04-12T00:00:00Z', null],
  ])('%j → %j', (input, expected) => {
    expect(timeParseRfc3339Ns(input)).toBe(expected === null ? null : Number(BigInt(expected)));
  });

  it.each<[string]>([
    ['2021-02-29T00:00:00Z'],
    ['2021-13-01T00:00:00Z'],
    ['2021-01-01T24:00:00Z'],
    ['2021-01-01T00:00:61Z'],
    ['2021-01-01T00:00:00'],
    ['2021-01-01T00:00:00.Z'],
    ['2021-01-01T00:00:00+24:00'],
    ['2021-01-01T00:00:00+0100'],
    ['2021-1-01T00:00:00Z'],
    [' 2021-01-01T00:00:00Z'],
  ])('rejects %j', (input) => {
    expect(() => timeParseRfc3339Ns(input)).toThrow(RegoBuiltinError);
    expect(() => timeParseRfc3339Ns(input)).toThrow(`: cannot convert ${input}: ParseError(Invalid)`);
  });
});

describe('time.date', () => {
  const pacificNoon = Date.UTC(1990, 4, 6, 19, 30, 45) * 1e6;

  it.each<[unknown, [number, number, number]]>([
    [0, [1970, 1, 1]],
    [-1, [1969, 12, 31]],
    [1609459199e9, [2020, 12, 31]],
    [
      [pacificNoon, 'US/Pacific'],
      [1990, 5, 6],
    ],
    [
      [0, 'Asia/Tokyo'],
      [1970, 1, 1],
    ],
    [
      [0, 'America/New_York'],
      [1969, 12, 31],
    ],
    [
      [0, 'UTC'],
      [1970, 1, 1],
    ],
  ])('date(%j) = %j', (input, expected) => {
    expect(timeDate(input)).toEqual(expected);
  });

  it('uses the host time zone for "Local"', () => {
    const local = new Date(0);
    expect(timeDate([0, 'Local'])).toEqual([local.getFullYear(), local.getMonth() + 1, local.getDate()]);
  });

  it.each<[unknown, string]>([
    [1.5, '1st parameter is not a number'],
    ['0', 'the 1st parameter is neither a number nor an array'],
    [[0], 'wrong number of items inside of input array'],
    [['0', 'UTC'], '1st array item is not a number'],
    [[0, 1], '2nd array item is not a string'],
    [
      [0, 'Mars/Olympus'],
      'cannot handle given timezone Mars/Olympus: "\'Mars/Olympus\' is not a valid timezone"',
    ],
    // OPA reads an empty zone as UTC; chrono-tz knows no such zone.
    [[0, ''], 'cannot handle given timezone : "\'\' is not a valid timezone"'],
    [[0, '+01:00'], 'cannot handle given timezone +01:00: "\'+01:00\' is not a valid timezone"'],
  ])('rejects %j', (input, detail) => {
    expect(() => timeDate(input)).toThrow(new RegoBuiltinError('time.date', detail).message);
  });
});
