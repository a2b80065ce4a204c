import { concatBytes, encodeName } from './encoding.js';
import type { ImportName } from './imports.js';
import { readImports } from './imports.js';
import { encodeU32 } from './leb128.js';
import { readDefinedMemories } from './memories.js';
import { readSections, replaceSection, SectionId, sectionReader } from './sections.js';
import type { ModuleBytes } from './sections.js';
import type { Limits } from './types.js';

const MEMORY_IMPORT_KIND = 0x02;

/**
 * Turns the module's single defined memory into an import with the same limits, so the host can
 * create that memory itself — with more initial pages than the module asks for, for instance. The
 * memory keeps index 0 (imports come first and there is no other memory), so nothing else in the
 * module changes. Returns undefined when the module has no memory of its own, several memories, an
 * imported one, or a shared or 64-bit memory.
 */
export function importDefinedMemory(
  bytes: ModuleBytes,
  as: ImportName,
): { bytes: ModuleBytes; limits: Limits } | undefined {
  const memories = readDefinedMemories(bytes);
  const [memory] = memories;
  if (memories.length !== 1 || !memory || memory.limits.shared || memory.limits.is64) return undefined;
  if (readImports(bytes).some((entry) => entry.kind === 'memory')) return undefined;

  const sections = readSections(bytes);
  const memorySection = sections.find(({ id }) => id === SectionId.Memory)!;
  const importSection = sections.find(({ id }) => id === SectionId.Import);
  let count = 0;
  let entries: Uint8Array = new Uint8Array(0);
  if (importSection) {
    const reader = sectionReader(bytes, importSection);
    count = reader.u32();
    entries = bytes.subarray(reader.offset, importSection.end);
  }
  const memoryImport = concatBytes([
    encodeName(as.module),
    encodeName(as.name),
    Uint8Array.of(MEMORY_IMPORT_KIND),
    bytes.subarray(memory.start, memory.end),
  ]);
  const withoutMemory = concatBytes([
    bytes.subarray(0, memorySection.start),
    bytes.subarray(memorySection.end),
  ]);
  return {
    bytes: replaceSection(
      withoutMemory,
      SectionId.Import,
      concatBytes([encodeU32(count + 1), entries, memoryImport]),
    ),
    limits: memory.limits,
  };
}
