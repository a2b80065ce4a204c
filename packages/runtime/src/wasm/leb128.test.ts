import { describe, expect, it } from 'vitest';
import { RuntimeErrorCode } from '../errors.js';
import { buildModule, encodeSection, SectionId } from './sections.js';
import type { ModuleBytes } from './sections.js';
import { concatBytes, encodeName, encodeVector } from './encoding.js';
import { encodeI32, encodeI64, encodeU32, readI32, readI64, readU32, readU64 } from './leb128.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.of(...values);

/** A module exporting one immutable global `g` of `type` (0x7f i32, 0x7e i64) initialised by `init`. */
function globalModule(type: number, init: Uint8Array): ModuleBytes {
  return buildModule([
    encodeSection(SectionId.Global, encodeVector([concatBytes([bytes(type, 0x00), init, bytes(0x0b)])])),
    encodeSection(SectionId.Export, encodeVector([concatBytes([encodeName('g'), bytes(0x03, 0x00)])])),
  ]);
}

function globalValue(module: ModuleBytes): unknown {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(module));
  return (instance.exports['g'] as WebAssembly.Global).value;
}

describe('unsigned LEB128', () => {
  it.each([
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [624485, [0xe5, 0x8e, 0x26]],
    [0xffff_ffff, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])('encodes and decodes u32 %d', (value, encoded) => {
    expect([...encodeU32(value)]).toEqual(encoded);
    expect(readU32(Uint8Array.from(encoded), 0)).toEqual({ value, next: encoded.length });
  });

  it('reads at an offset and accepts padded encodings, which the spec allows', () => {
    expect(readU32(bytes(0xaa, 0x80, 0x80, 0x80, 0x80, 0x00, 0xbb), 1)).toEqual({ value: 0, next: 6 });
  });

  it('reads u64 up to 2^64 - 1', () => {
    const max = bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    expect(readU64(max, 0)).toEqual({ value: 2n ** 64n - 1n, next: 10 });
  });

  it.each([
    ['is truncated', [0x80, 0x80], /offset 2 \(0x2\): unexpected end of input in u32 LEB128/],
    ['is longer than 5 bytes', [0x80, 0x80, 0x80, 0x80, 0x80, 0x00], /offset 0 .*longer than 5 bytes/],
    ['does not fit in 32 bits', [0xff, 0xff, 0xff, 0xff, 0x1f], /u32 LEB128 value is out of range/],
  ])('rejects a u32 that %s', (_, encoded, message) => {
    const read = () => readU32(Uint8Array.from(encoded), 0);
    expect(read).toThrow(message);
    expect(read).toThrow(expect.objectContaining({ code: RuntimeErrorCode.WasmEncoding }));
  });

  it.each([-1, 2 ** 32, 1.5, Number.NaN])('refuses to encode %d as a u32', (value) => {
    expect(() => encodeU32(value)).toThrow(RangeError);
  });
});

describe('signed LEB128', () => {
  it.each([
    [0, [0x00]],
    [-1, [0x7f]],
    [63, [0x3f]],
    [64, [0xc0, 0x00]],
    [-64, [0x40]],
    [-65, [0xbf, 0x7f]],
    [-123456, [0xc0, 0xbb, 0x78]],
    [2 ** 31 - 1, [0xff, 0xff, 0xff, 0xff, 0x07]],
    [-(2 ** 31), [0x80, 0x80, 0x80, 0x80, 0x78]],
  ])('encodes and decodes i32 %d', (value, encoded) => {
    expect([...encodeI32(value)]).toEqual(encoded);
    expect(readI32(Uint8Array.from(encoded), 0)).toEqual({ value, next: encoded.length });
  });

  it.each([
    [0n, [0x00]],
    [-1n, [0x7f]],
    [2n ** 63n - 1n, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]],
    [-(2n ** 63n), [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]],
  ])('encodes and decodes i64 %s', (value, encoded) => {
    expect([...encodeI64(value)]).toEqual(encoded);
    expect(readI64(Uint8Array.from(encoded), 0)).toEqual({ value, next: encoded.length });
  });

  it.each([
    ['i32 whose unused bits are not the sign', () => readI32(bytes(0xff, 0xff, 0xff, 0xff, 0x0f), 0)],
    ['i32 above 2^31 - 1', () => readI32(bytes(0x80, 0x80, 0x80, 0x80, 0x08), 0)],
    [
      'i64 whose last byte is not a sign extension',
      () => readI64(bytes(...new Array<number>(9).fill(0xff), 0x01), 0),
    ],
  ])('rejects an %s', (_, read) => {
    expect(read).toThrow(/s(32|64) LEB128 value is out of range/);
  });

  it('rejects an i64 longer than 10 bytes', () => {
    expect(() => readI64(bytes(...new Array<number>(10).fill(0x80), 0x00), 0)).toThrow(
      /longer than 10 bytes/,
    );
  });

  it.each([2 ** 31, -(2 ** 31) - 1])('refuses to encode %d as an i32', (value) => {
    expect(() => encodeI32(value)).toThrow(RangeError);
  });

  it('refuses to encode an i64 out of range', () => {
    expect(() => encodeI64(2n ** 63n)).toThrow(RangeError);
  });

  it('round-trips values across the whole i32 and i64 ranges', () => {
    for (let bit = 0; bit < 64; bit++) {
      for (const value of [2n ** BigInt(bit) - 1n, -(2n ** BigInt(bit)), -(2n ** BigInt(bit)) + 3n]) {
        expect(readI64(encodeI64(value), 0).value).toBe(value);
        if (bit < 32) expect(readI32(encodeI32(Number(value)), 0).value).toBe(Number(value));
      }
    }
  });
});

describe('LEB128 as the engine reads it', () => {
  it.each([0, 1, -1, 63, 64, -65, 123456789, 2 ** 31 - 1, -(2 ** 31)])('agrees on i32.const %d', (value) => {
    expect(globalValue(globalModule(0x7f, concatBytes([bytes(0x41), encodeI32(value)])))).toBe(value);
  });

  it.each([0n, -1n, 2n ** 40n, 2n ** 63n - 1n, -(2n ** 63n)])('agrees on i64.const %s', (value) => {
    expect(globalValue(globalModule(0x7e, concatBytes([bytes(0x42), encodeI64(value)])))).toBe(value);
  });
});
