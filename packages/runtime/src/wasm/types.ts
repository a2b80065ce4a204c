import { wasmDecodeError } from './decode-error.js';
import type { ByteReader } from './reader.js';

/**
 * `funcref` and `externref`, or a typed reference of the function-references proposal written as
 * in the text format: `(ref $heap)` or `(ref null $heap)`, the heap type an abstract one (`func`,
 * `extern`, `any` …) or a type index.
 */
export type ReferenceType = 'funcref' | 'externref' | `(ref ${string})` | `(ref null ${string})`;
export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | ReferenceType;

/** The kinds of import and export, named as `WebAssembly.Module.imports()` names them. */
export type ExternalKind = 'function' | 'table' | 'memory' | 'global' | 'tag';

/** Table or memory limits, in elements or 64 KiB pages. */
export interface Limits {
  min: number;
  max?: number;
  /** Threads proposal: memory shared between agents. */
  shared: boolean;
  /** memory64 / table64 proposals: 64-bit addresses, limits encoded as u64. */
  is64: boolean;
}

export interface GlobalType {
  valueType: ValueType;
  mutable: boolean;
}

const REFERENCE_TYPES = new Map<number, ReferenceType>([
  [0x70, 'funcref'],
  [0x6f, 'externref'],
]);

/** The prefixes of a typed reference: `(ref null ht)` and `(ref ht)`. */
const REF_NULL = 0x63;
const REF = 0x64;

/** Abstract heap types by their one-byte encoding (function references and GC proposals). */
const ABSTRACT_HEAP_TYPES = new Map<number, string>([
  [0x70, 'func'],
  [0x6f, 'extern'],
  [0x6e, 'any'],
  [0x6d, 'eq'],
  [0x6c, 'i31'],
  [0x6b, 'struct'],
  [0x6a, 'array'],
  [0x69, 'exn'],
  [0x71, 'none'],
  [0x72, 'noextern'],
  [0x73, 'nofunc'],
  [0x74, 'noexn'],
]);

const VALUE_TYPES = new Map<number, ValueType>([
  [0x7f, 'i32'],
  [0x7e, 'i64'],
  [0x7d, 'f32'],
  [0x7c, 'f64'],
  [0x7b, 'v128'],
  ...REFERENCE_TYPES,
]);

/** Indexed by the kind byte of import descriptions and exports. */
export const EXTERNAL_KINDS: readonly ExternalKind[] = ['function', 'table', 'memory', 'global', 'tag'];

const LIMITS_HAS_MAX = 0x01;
const LIMITS_SHARED = 0x02;
const LIMITS_64 = 0x04;

function hexByte(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

export function readValueType(reader: ByteReader): ValueType {
  const offset = reader.offset;
  const code = reader.byte();
  if (code === REF || code === REF_NULL) return typedReference(reader, code);
  const type = VALUE_TYPES.get(code);
  if (type === undefined) throw wasmDecodeError(`unsupported value type ${hexByte(code)}`, offset);
  return type;
}

export function readReferenceType(reader: ByteReader): ReferenceType {
  const offset = reader.offset;
  const code = reader.byte();
  if (code === REF || code === REF_NULL) return typedReference(reader, code);
  const type = REFERENCE_TYPES.get(code);
  if (type === undefined) throw wasmDecodeError(`unsupported reference type ${hexByte(code)}`, offset);
  return type;
}

/**
 * A heap type (s33): a non-negative type index, or an abstract heap type, whose one-byte encoding
 * reads as a negative number. The immediate of `ref.null` is one.
 */
export function readHeapType(reader: ByteReader): string {
  const offset = reader.offset;
  const value = reader.i64();
  if (value >= 0n) return String(value);
  const abstract = ABSTRACT_HEAP_TYPES.get(Number(value) + 0x80);
  if (abstract === undefined) throw wasmDecodeError(`unsupported heap type ${value}`, offset);
  return abstract;
}

function typedReference(reader: ByteReader, prefix: typeof REF | typeof REF_NULL): ReferenceType {
  const heapType = readHeapType(reader);
  return prefix === REF_NULL ? `(ref null ${heapType})` : `(ref ${heapType})`;
}

export function readExternalKind(reader: ByteReader): ExternalKind {
  const offset = reader.offset;
  const code = reader.byte();
  const kind = EXTERNAL_KINDS[code];
  if (kind === undefined) throw wasmDecodeError(`unknown import or export kind ${hexByte(code)}`, offset);
  return kind;
}

export function readLimits(reader: ByteReader): Limits {
  const offset = reader.offset;
  const flags = reader.byte();
  if ((flags & ~(LIMITS_HAS_MAX | LIMITS_SHARED | LIMITS_64)) !== 0) {
    throw wasmDecodeError(`unsupported limits flags ${hexByte(flags)}`, offset);
  }
  const is64 = (flags & LIMITS_64) !== 0;
  const readBound = (): number => (is64 ? safeNumber(reader) : reader.u32());
  const min = readBound();
  const max = flags & LIMITS_HAS_MAX ? readBound() : undefined;
  return { min, max, shared: (flags & LIMITS_SHARED) !== 0, is64 };
}

/** 64-bit limits as a number: every engine caps them far below 2^53 (memory64 allows 2^48 pages). */
function safeNumber(reader: ByteReader): number {
  const offset = reader.offset;
  const value = reader.u64();
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw wasmDecodeError(`limit ${value} is too large`, offset);
  return Number(value);
}

export function readGlobalType(reader: ByteReader): GlobalType {
  const valueType = readValueType(reader);
  const offset = reader.offset;
  const mutability = reader.byte();
  if (mutability > 1) throw wasmDecodeError(`invalid global mutability ${hexByte(mutability)}`, offset);
  return { valueType, mutable: mutability === 1 };
}
