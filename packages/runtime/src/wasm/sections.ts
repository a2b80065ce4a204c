import { concatBytes } from './encoding.js';
import { encodeU32 } from './leb128.js';
import { wasmDecodeError } from './decode-error.js';
import { ByteReader } from './reader.js';

export const SectionId = {
  Custom: 0,
  Type: 1,
  Import: 2,
  Function: 3,
  Table: 4,
  Memory: 5,
  Global: 6,
  Export: 7,
  Start: 8,
  Element: 9,
  Code: 10,
  Data: 11,
  DataCount: 12,
  Tag: 13,
} as const;

export type SectionId = (typeof SectionId)[keyof typeof SectionId];

/** Where a section lies in the module bytes; `end` is exclusive. */
export interface Section {
  id: number;
  /** Offset of the id byte. */
  start: number;
  /** Offset of the first byte after the size; for custom sections the payload begins with the name. */
  payloadStart: number;
  end: number;
  /** Set for custom sections only. */
  name?: string;
}

/**
 * The bytes of a module, backed by an ArrayBuffer as `WebAssembly.Module` requires (not a SharedArrayBuffer).
 * Transformations take and return this type, since they may return their input unchanged.
 */
export type ModuleBytes = Uint8Array<ArrayBuffer>;

export const MODULE_HEADER = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);

const HEADER_LENGTH = MODULE_HEADER.length;
const MAGIC = '00 61 73 6d';
const MODULE_VERSION = '01 00 00 00';
const COMPONENT_VERSION = '0d 00 01 00';

/** The order in which non-custom sections must appear (the tag section sits between memory and global). */
const SECTION_ORDER: readonly number[] = [
  SectionId.Type,
  SectionId.Import,
  SectionId.Function,
  SectionId.Table,
  SectionId.Memory,
  SectionId.Tag,
  SectionId.Global,
  SectionId.Export,
  SectionId.Start,
  SectionId.Element,
  SectionId.DataCount,
  SectionId.Code,
  SectionId.Data,
];

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

function checkHeader(bytes: Uint8Array): void {
  if (bytes.length < HEADER_LENGTH) {
    throw wasmDecodeError(`${bytes.length} bytes is too short for a WebAssembly module header`, 0);
  }
  const magic = hex(bytes.subarray(0, 4));
  if (magic !== MAGIC) {
    throw wasmDecodeError(`expected the WebAssembly magic "\\0asm" (${MAGIC}), found ${magic}`, 0);
  }
  const version = hex(bytes.subarray(4, HEADER_LENGTH));
  if (version === COMPONENT_VERSION) {
    throw wasmDecodeError('this is a WebAssembly component, not a core module', 4);
  }
  if (version !== MODULE_VERSION) {
    throw wasmDecodeError(`unsupported binary version ${version} (expected ${MODULE_VERSION})`, 4);
  }
}

/** Lists the sections of a module, checking the header, the section sizes and the section order. */
export function readSections(bytes: Uint8Array): Section[] {
  checkHeader(bytes);
  const sections: Section[] = [];
  let previousRank = -1;
  const reader = new ByteReader(bytes, HEADER_LENGTH);
  while (!reader.atEnd) {
    const start = reader.offset;
    const id = reader.byte();
    const size = reader.u32();
    const payloadStart = reader.offset;
    const end = payloadStart + size;
    if (end > bytes.length) {
      throw wasmDecodeError(
        `section ${id} declares ${size} bytes but only ${bytes.length - payloadStart} remain`,
        start,
      );
    }
    if (id === SectionId.Custom) {
      sections.push({ id, start, payloadStart, end, name: new ByteReader(bytes, payloadStart, end).name() });
    } else {
      const rank = SECTION_ORDER.indexOf(id);
      if (rank === -1) throw wasmDecodeError(`unknown section id ${id}`, start);
      if (rank <= previousRank) throw wasmDecodeError(`section ${id} is duplicated or out of order`, start);
      previousRank = rank;
      sections.push({ id, start, payloadStart, end });
    }
    reader.offset = end;
  }
  return sections;
}

export function encodeSection(id: SectionId, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes([Uint8Array.of(id), encodeU32(payload.length), payload]);
}

/** A module made of the header and the given encoded sections, in the given order. */
export function buildModule(sections: readonly Uint8Array[]): ModuleBytes {
  return concatBytes([MODULE_HEADER, ...sections]);
}

/** A reader over a section's payload that refuses to read past the section's end. */
export function sectionReader(bytes: Uint8Array, section: Section): ByteReader {
  return new ByteReader(bytes, section.payloadStart, section.end);
}

/**
 * Replaces the non-custom section `id` with one holding `payload`, or inserts it where the section order
 * requires: before the first section that must follow it, else right after the last one that precedes it
 * (ahead of trailing custom sections such as `name`, which tools expect at the end).
 */
export function replaceSection(bytes: ModuleBytes, id: SectionId, payload: Uint8Array): ModuleBytes {
  if (id === SectionId.Custom) throw new RangeError('replaceSection cannot replace custom sections');
  const sections = readSections(bytes);
  const encoded = encodeSection(id, payload);
  const existing = sections.find((section) => section.id === id);
  if (existing) return splice(bytes, existing.start, existing.end, encoded);
  const rank = SECTION_ORDER.indexOf(id);
  const rankOf = (section: Section): number => SECTION_ORDER.indexOf(section.id);
  const following = sections.find((section) => section.id !== SectionId.Custom && rankOf(section) > rank);
  const preceding = sections.findLast((section) => section.id !== SectionId.Custom && rankOf(section) < rank);
  const at = following?.start ?? preceding?.end ?? HEADER_LENGTH;
  return splice(bytes, at, at, encoded);
}

function splice(bytes: Uint8Array, start: number, end: number, insert: Uint8Array): ModuleBytes {
  return concatBytes([bytes.subarray(0, start), insert, bytes.subarray(end)]);
}
