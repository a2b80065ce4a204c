import { skipConstantExpression } from './const-expr.js';
import { readSections, SectionId, sectionReader } from './sections.js';
import { readGlobalType } from './types.js';
import type { GlobalType } from './types.js';

/** The types of the globals the module defines (its global section), in order; imported globals are not included. */
export function readDefinedGlobals(bytes: Uint8Array): GlobalType[] {
  const section = readSections(bytes).find(({ id }) => id === SectionId.Global);
  if (!section) return [];
  const reader = sectionReader(bytes, section);
  const count = reader.u32();
  const globals: GlobalType[] = [];
  for (let i = 0; i < count; i++) {
    globals.push(readGlobalType(reader));
    skipConstantExpression(reader);
  }
  reader.expectEnd('global section');
  return globals;
}
