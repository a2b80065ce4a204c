import { readSections, SectionId, sectionReader } from './sections.js';
import { readLimits } from './types.js';
import type { Limits } from './types.js';

/** A memory the module defines, and where its limits are encoded. */
export interface DefinedMemory {
  limits: Limits;
  start: number;
  end: number;
}

/** The memories of the module's memory section, in order; imported memories are not included. */
export function readDefinedMemories(bytes: Uint8Array): DefinedMemory[] {
  const section = readSections(bytes).find(({ id }) => id === SectionId.Memory);
  if (!section) return [];
  const reader = sectionReader(bytes, section);
  const count = reader.u32();
  const memories: DefinedMemory[] = [];
  for (let i = 0; i < count; i++) {
    const start = reader.offset;
    const limits = readLimits(reader);
    memories.push({ limits, start, end: reader.offset });
  }
  reader.expectEnd('memory section');
  return memories;
}
