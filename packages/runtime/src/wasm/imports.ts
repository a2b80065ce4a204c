import { concatBytes, encodeName, encodeVector } from './encoding.js';
import { wasmDecodeError } from './decode-error.js';
import type { ByteReader } from './reader.js';
import { readSections, replaceSection, SectionId, sectionReader } from './sections.js';
import type { ModuleBytes, Section } from './sections.js';
import { readExternalKind, readGlobalType, readLimits, readReferenceType } from './types.js';
import type { GlobalType, Limits, ReferenceType } from './types.js';

/** The two-level name an import is resolved by. */
export interface ImportName {
  module: string;
  name: string;
}

export type ImportDescription =
  | { kind: 'function'; typeIndex: number }
  | { kind: 'table'; elementType: ReferenceType; limits: Limits }
  | { kind: 'memory'; limits: Limits }
  | { kind: 'global'; type: GlobalType }
  | { kind: 'tag'; typeIndex: number };

export type ModuleImport = ImportName & ImportDescription;

/** An import with where its encoding lies, so that it can be rewritten without re-encoding the rest. */
interface ImportEntry {
  import: ModuleImport;
  start: number;
  descriptionStart: number;
  end: number;
}

function readImportDescription(reader: ByteReader): ImportDescription {
  const kind = readExternalKind(reader);
  switch (kind) {
    case 'function':
      return { kind, typeIndex: reader.u32() };
    case 'table':
      return { kind, elementType: readReferenceType(reader), limits: readLimits(reader) };
    case 'memory':
      return { kind, limits: readLimits(reader) };
    case 'global':
      return { kind, type: readGlobalType(reader) };
    case 'tag': {
      const offset = reader.offset;
      const attribute = reader.byte();
      // The exception-handling proposal defines only attribute 0 (exception).
      if (attribute !== 0) throw wasmDecodeError(`unknown tag attribute ${attribute}`, offset);
      return { kind, typeIndex: reader.u32() };
    }
  }
}

function readImportEntries(bytes: Uint8Array, section: Section): ImportEntry[] {
  const reader = sectionReader(bytes, section);
  const count = reader.u32();
  const entries: ImportEntry[] = [];
  for (let i = 0; i < count; i++) {
    const start = reader.offset;
    const module = reader.name();
    const name = reader.name();
    const descriptionStart = reader.offset;
    const description = readImportDescription(reader);
    entries.push({ import: { module, name, ...description }, start, descriptionStart, end: reader.offset });
  }
  reader.expectEnd('import section');
  return entries;
}

/** The module's imports, in order; fails on import kinds this parser does not know. */
export function readImports(bytes: Uint8Array): ModuleImport[] {
  const section = readSections(bytes).find(({ id }) => id === SectionId.Import);
  return section ? readImportEntries(bytes, section).map((entry) => entry.import) : [];
}

/**
 * Renames every function import `from` to `to`, keeping its type. Imports of other kinds with that name are
 * left alone. Returns `bytes` itself when no function import is called `from`.
 */
export function renameFunctionImport(bytes: ModuleBytes, from: ImportName, to: ImportName): ModuleBytes {
  const section = readSections(bytes).find(({ id }) => id === SectionId.Import);
  if (!section) return bytes;
  const entries = readImportEntries(bytes, section);
  const isRenamed = ({ import: entry }: ImportEntry): boolean =>
    entry.kind === 'function' && entry.module === from.module && entry.name === from.name;
  if (!entries.some(isRenamed)) return bytes;
  const encoded = entries.map((entry) =>
    isRenamed(entry)
      ? concatBytes([
          encodeName(to.module),
          encodeName(to.name),
          bytes.subarray(entry.descriptionStart, entry.end),
        ])
      : bytes.subarray(entry.start, entry.end),
  );
  return replaceSection(bytes, SectionId.Import, encodeVector(encoded));
}
