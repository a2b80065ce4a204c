export { encodeI32, encodeI64, encodeU32, readI32, readI64, readU32, readU64 } from './leb128.js';
export type { Decoded } from './leb128.js';
export {
  buildModule,
  encodeSection,
  MODULE_HEADER,
  readSections,
  replaceSection,
  SectionId,
} from './sections.js';
export type { ModuleBytes, Section } from './sections.js';
export { encodeCustomSection, readCustomSection, setCustomSection } from './custom-section.js';
export { readImports, renameFunctionImport } from './imports.js';
export type { ImportDescription, ImportName, ModuleImport } from './imports.js';
export { readExports } from './exports.js';
export type { ModuleExport } from './exports.js';
export { capMemory, exportMutableGlobals, MAX_MEMORY32_PAGES, WASM_PAGE_BYTES } from './instrument.js';
export type { ExportedGlobal, MutableGlobalsExport } from './instrument.js';
export { describeModule } from './describe.js';
export type { ModuleDescription } from './describe.js';
export type { ExternalKind, GlobalType, Limits, ReferenceType, ValueType } from './types.js';
export { importDefinedMemory } from './import-memory.js';
