import { wasmDecodeError } from './decode-error.js';

/** A value decoded at some offset, and the offset of the first byte after it. */
export interface Decoded<T> {
  value: T;
  next: number;
}

/**
 * Decodes a LEB128 integer of `bits` bits as the spec defines it: at most ceil(bits / 7) bytes, and the
 * unused bits of the last byte must be zero (unsigned) or copies of the sign bit (signed).
 */
function readLeb128(bytes: Uint8Array, offset: number, bits: number, signed: boolean): Decoded<bigint> {
  const label = `${signed ? 's' : 'u'}${bits} LEB128`;
  const maxLength = Math.ceil(bits / 7);
  let result = 0n;
  for (let i = 0; ; i++) {
    const byte = bytes[offset + i];
    if (byte === undefined) throw wasmDecodeError(`unexpected end of input in ${label}`, offset + i);
    result |= BigInt(byte & 0x7f) << BigInt(7 * i);
    const isLast = i === maxLength - 1;
    if (byte & 0x80) {
      if (isLast) throw wasmDecodeError(`${label} is longer than ${maxLength} bytes`, offset);
      continue;
    }
    if (isLast) checkUnusedBits(byte, bits - 7 * i, signed, label, offset);
    if (signed && byte & 0x40) result -= 1n << BigInt(7 * (i + 1));
    return { value: result, next: offset + i + 1 };
  }
}

function checkUnusedBits(
  lastByte: number,
  usedBits: number,
  signed: boolean,
  label: string,
  offset: number,
): void {
  const unused = lastByte >> (signed ? usedBits - 1 : usedBits);
  const allowed = signed ? [0, 0x7f >> (usedBits - 1)] : [0];
  if (!allowed.includes(unused)) throw wasmDecodeError(`${label} value is out of range`, offset);
}

export function readU32(bytes: Uint8Array, offset: number): Decoded<number> {
  const { value, next } = readLeb128(bytes, offset, 32, false);
  return { value: Number(value), next };
}

export function readI32(bytes: Uint8Array, offset: number): Decoded<number> {
  const { value, next } = readLeb128(bytes, offset, 32, true);
  return { value: Number(value), next };
}

export function readU64(bytes: Uint8Array, offset: number): Decoded<bigint> {
  return readLeb128(bytes, offset, 64, false);
}

export function readI64(bytes: Uint8Array, offset: number): Decoded<bigint> {
  return readLeb128(bytes, offset, 64, true);
}

function encodeUnsigned(value: bigint): Uint8Array {
  const out: number[] = [];
  let rest = value;
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(rest === 0n ? low : low | 0x80);
  } while (rest !== 0n);
  return Uint8Array.from(out);
}

function encodeSigned(value: bigint): Uint8Array {
  const out: number[] = [];
  let rest = value;
  for (;;) {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    // Done once the remaining bits are pure sign extension of the sign bit (0x40) just written.
    const done = (rest === 0n && (low & 0x40) === 0) || (rest === -1n && (low & 0x40) !== 0);
    out.push(done ? low : low | 0x80);
    if (done) return Uint8Array.from(out);
  }
}

function checkRange(value: number | bigint, min: bigint, max: bigint, label: string): void {
  const isInteger = typeof value === 'bigint' || Number.isInteger(value);
  if (!isInteger || BigInt(value) < min || BigInt(value) > max) {
    throw new RangeError(`${String(value)} is not a valid ${label} (expected an integer in ${min}..${max})`);
  }
}

export function encodeU32(value: number): Uint8Array {
  checkRange(value, 0n, 0xffff_ffffn, 'u32');
  return encodeUnsigned(BigInt(value));
}

export function encodeI32(value: number): Uint8Array {
  checkRange(value, -(2n ** 31n), 2n ** 31n - 1n, 'i32');
  return encodeSigned(BigInt(value));
}

export function encodeI64(value: bigint): Uint8Array {
  checkRange(value, -(2n ** 63n), 2n ** 63n - 1n, 'i64');
  return encodeSigned(value);
}
