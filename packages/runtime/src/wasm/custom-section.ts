import { concatBytes, encodeName } from './encoding.js';
import { encodeSection, readSections, SectionId, sectionReader } from './sections.js';
import type { ModuleBytes, Section } from './sections.js';

export function encodeCustomSection(name: string, data: Uint8Array): Uint8Array<ArrayBuffer> {
  return encodeSection(SectionId.Custom, concatBytes([encodeName(name), data]));
}

/** The data of a custom section: what follows its name. A view into `bytes`, not a copy. */
function customSectionData(bytes: Uint8Array, section: Section): Uint8Array {
  const reader = sectionReader(bytes, section);
  reader.name();
  return reader.take(section.end - reader.offset);
}

/** The data of the first custom section called `name`, or undefined if there is none. */
export function readCustomSection(bytes: Uint8Array, name: string): Uint8Array | undefined {
  const section = readSections(bytes).find((candidate) => candidate.name === name);
  return section && customSectionData(bytes, section);
}

/**
 * Removes every custom section called `name` and appends a single one holding `data`, so that readers
 * that take the first or the last occurrence agree on the value.
 */
export function setCustomSection(bytes: ModuleBytes, name: string, data: Uint8Array): ModuleBytes {
  const kept: Uint8Array[] = [];
  let keptFrom = 0;
  for (const section of readSections(bytes)) {
    if (section.name !== name) continue;
    kept.push(bytes.subarray(keptFrom, section.start));
    keptFrom = section.end;
  }
  kept.push(bytes.subarray(keptFrom));
  return concatBytes([...kept, encodeCustomSection(name, data)]);
}
