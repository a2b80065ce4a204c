import { wasmDecodeError } from './decode-error.js';
import type { ByteReader } from './reader.js';
import { readHeapType } from './types.js';

const END = 0x0b;
const SIMD_PREFIX = 0xfd;
const V128_CONST = 12;

/** Opcodes allowed in constant expressions, and how to skip their immediates. */
const CONSTANT_INSTRUCTIONS = new Map<number, (reader: ByteReader) => void>([
  [0x41, (reader) => reader.i32()], // i32.const
  [0x42, (reader) => reader.i64()], // i64.const
  [0x43, (reader) => reader.take(4)], // f32.const
  [0x44, (reader) => reader.take(8)], // f64.const
  [0x23, (reader) => reader.u32()], // global.get
  [0xd0, (reader) => readHeapType(reader)], // ref.null (a heap type: func, extern or a type index)
  [0xd2, (reader) => reader.u32()], // ref.func
  // extended-const proposal: i32.add, i32.sub, i32.mul, i64.add, i64.sub, i64.mul take no immediates.
  ...[0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e].map((opcode) => [opcode, () => {}] as const),
  [SIMD_PREFIX, skipSimdConstant],
]);

function skipSimdConstant(reader: ByteReader): void {
  const offset = reader.offset;
  const opcode = reader.u32();
  if (opcode !== V128_CONST) {
    throw wasmDecodeError(`unsupported instruction 0xfd ${opcode} in a constant expression`, offset);
  }
  reader.take(16);
}

/**
 * Moves the reader past a constant expression (a global's or segment's initialiser) and its `end`.
 * Throws on any instruction it does not know rather than guess its immediates' length.
 */
export function skipConstantExpression(reader: ByteReader): void {
  for (;;) {
    const offset = reader.offset;
    const opcode = reader.byte();
    if (opcode === END) return;
    const skipImmediates = CONSTANT_INSTRUCTIONS.get(opcode);
    if (!skipImmediates) {
      throw wasmDecodeError(
        `unsupported instruction 0x${opcode.toString(16)} in a constant expression`,
        offset,
      );
    }
    skipImmediates(reader);
  }
}
