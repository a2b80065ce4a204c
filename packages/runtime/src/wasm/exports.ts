import { concatBytes, encodeName } from './encoding.js';
import { encodeU32 } from './leb128.js';
import { readSections, SectionId, sectionReader } from './sections.js';
import { EXTERNAL_KINDS, readExternalKind } from './types.js';
import type { ExternalKind } from './types.js';

export interface ModuleExport {
  name: string;
  kind: ExternalKind;
  /** Index in the kind's index space, where imports come first. */
  index: number;
}

export function readExports(bytes: Uint8Array): ModuleExport[] {
  const section = readSections(bytes).find(({ id }) => id === SectionId.Export);
  if (!section) return [];
  const reader = sectionReader(bytes, section);
  const count = reader.u32();
  const exports: ModuleExport[] = [];
  for (let i = 0; i < count; i++) {
    exports.push({ name: reader.name(), kind: readExternalKind(reader), index: reader.u32() });
  }
  reader.expectEnd('export section');
  return exports;
}

export function encodeExport({ name, kind, index }: ModuleExport): Uint8Array {
  return concatBytes([encodeName(name), Uint8Array.of(EXTERNAL_KINDS.indexOf(kind)), encodeU32(index)]);
}
