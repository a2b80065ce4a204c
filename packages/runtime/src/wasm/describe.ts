import { readImports } from './imports.js';
import { readDefinedMemories } from './memories.js';
import { readSections } from './sections.js';
import type { Limits } from './types.js';

/** What `castellan inspect` shows beyond `WebAssembly.Module.imports()` and `.exports()`. */
export interface ModuleDescription {
  customSections: Array<{ name: string; size: number }>;
  /** Imported memories first, as in the memory index space. */
  memories: Array<{ index: number; imported: boolean; limits: Limits }>;
}

export function describeModule(bytes: Uint8Array): ModuleDescription {
  const customSections = readSections(bytes).flatMap(({ name, payloadStart, end }) =>
    name === undefined ? [] : [{ name, size: end - payloadStart }],
  );
  const importedLimits = readImports(bytes).flatMap((entry) =>
    entry.kind === 'memory' ? [entry.limits] : [],
  );
  const definedLimits = readDefinedMemories(bytes).map(({ limits }) => limits);
  const memories = [
    ...importedLimits.map((limits) => ({ imported: true, limits })),
    ...definedLimits.map((limits) => ({ imported: false, limits })),
  ].map((memory, index) => ({ index, ...memory }));
  return { customSections, memories };
}
