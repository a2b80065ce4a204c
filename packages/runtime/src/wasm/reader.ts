import { readI32, readI64, readU32, readU64 } from './leb128.js';
import type { Decoded } from './leb128.js';
import { wasmDecodeError } from './decode-error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A cursor over module bytes that stops at `end`, so that a section's parser cannot silently read into the
 * next section: running past it is reported as malformed, with the offset.
 */
export class ByteReader {
  private readonly bytes: Uint8Array;
  offset: number;

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    this.bytes = bytes.subarray(0, end);
    this.offset = offset;
  }

  get end(): number {
    return this.bytes.length;
  }

  get atEnd(): boolean {
    return this.offset >= this.bytes.length;
  }

  byte(): number {
    const value = this.bytes[this.offset];
    if (value === undefined) throw wasmDecodeError('unexpected end of input', this.offset);
    this.offset += 1;
    return value;
  }

  /** Returns a view of the next `length` bytes (not a copy). */
  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) {
      throw wasmDecodeError(
        `expected ${length} more bytes but only ${this.end - this.offset} remain`,
        this.offset,
      );
    }
    const taken = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return taken;
  }

  u32(): number {
    return this.advance(readU32(this.bytes, this.offset));
  }

  i32(): number {
    return this.advance(readI32(this.bytes, this.offset));
  }

  u64(): bigint {
    return this.advance(readU64(this.bytes, this.offset));
  }

  i64(): bigint {
    return this.advance(readI64(this.bytes, this.offset));
  }

  /** A spec `name`: a u32 byte length followed by that many bytes of UTF-8. */
  name(): string {
    const start = this.offset;
    const encoded = this.take(this.u32());
    try {
      return utf8.decode(encoded);
    } catch {
      throw wasmDecodeError('name is not valid UTF-8', start);
    }
  }

  expectEnd(what: string): void {
    if (!this.atEnd) {
      throw wasmDecodeError(
        `${this.end - this.offset} unexpected bytes at the end of the ${what}`,
        this.offset,
      );
    }
  }

  private advance<T>(decoded: Decoded<T>): T {
    this.offset = decoded.next;
    return decoded.value;
  }
}
