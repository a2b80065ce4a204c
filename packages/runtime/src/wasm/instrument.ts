import { RuntimeError, RuntimeErrorCode } from '../errors.js';
import { encodeVector } from './encoding.js';
import { encodeExport, readExports } from './exports.js';
import type { ModuleExport } from './exports.js';
import { readDefinedGlobals } from './globals.js';
import { readImports } from './imports.js';
import { encodeU32 } from './leb128.js';
import { readDefinedMemories } from './memories.js';
import type { DefinedMemory } from './memories.js';
import { replaceSection, SectionId } from './sections.js';
import type { ModuleBytes } from './sections.js';
import type { ValueType } from './types.js';

export const WASM_PAGE_BYTES = 64 * 1024;

/** The largest number of pages a 32-bit memory can have (4 GiB). */
export const MAX_MEMORY32_PAGES = 65536;

const LIMITS_WITH_MAX = 0x01;

function mebibytes(pages: number): string {
  return `${Number(((pages * WASM_PAGE_BYTES) / 2 ** 20).toFixed(2))} MiB`;
}

function cappedMemory(bytes: ModuleBytes, memory: DefinedMemory, maxPages: number): Uint8Array {
  const { min, max, shared, is64 } = memory.limits;
  if (min > maxPages) {
    throw new RuntimeError(
      RuntimeErrorCode.MemoryLimitExceeded,
      `module needs ${mebibytes(min)} of memory (${min} pages of 64 KiB) but the limit is ${mebibytes(maxPages)}; ` +
        'raise the memory limit or build the policy with a smaller initial memory',
    );
  }
  // Shared and 64-bit memories keep their encoding, only their minimum is checked: Kubewarden policies use
  // neither, so rewriting their limits is not worth their extra rules.
  const keepsLimits = shared || is64 || (max !== undefined && max <= maxPages);
  if (keepsLimits) return bytes.subarray(memory.start, memory.end);
  return Uint8Array.of(LIMITS_WITH_MAX, ...encodeU32(min), ...encodeU32(maxPages));
}

/**
 * Lowers the maximum of every memory the module defines to `maxPages`, so that `memory.grow` fails inside
 * the policy instead of exhausting the host. Imported memories are created by the host and not touched.
 * Throws when a memory's minimum is already above the limit.
 */
export function capMemory(bytes: ModuleBytes, maxPages: number): ModuleBytes {
  if (!Number.isInteger(maxPages) || maxPages < 0 || maxPages > MAX_MEMORY32_PAGES) {
    throw new RangeError(`maxPages must be an integer in 0..${MAX_MEMORY32_PAGES} (got ${maxPages})`);
  }
  const memories = readDefinedMemories(bytes);
  if (memories.length === 0) return bytes;
  const capped = memories.map((memory) => cappedMemory(bytes, memory, maxPages));
  return replaceSection(bytes, SectionId.Memory, encodeVector(capped));
}

/** A mutable global the host can reach through an export. */
export interface ExportedGlobal {
  /** Index in the global index space (imported globals first). */
  index: number;
  exportName: string;
  type: ValueType;
}

export interface MutableGlobalsExport {
  bytes: ModuleBytes;
  globals: ExportedGlobal[];
}

/**
 * Exports every mutable global the module defines, as `<prefix><index>` unless it is already exported
 * (its first export name is reported then). This lets the host snapshot and restore an instance's whole
 * state, including globals such as the shadow stack pointer that compilers do not export.
 * Imported globals are not included: the host owns them already. v128 globals are reported but cannot be
 * read from JavaScript, so a caller that snapshots globals must check `type`.
 * Throws a `WasmEncoding` RuntimeError when the module cannot be instrumented (an initialiser it cannot
 * parse, or a generated name already taken), so that the caller can fall back to fresh instances.
 */
export function exportMutableGlobals(bytes: ModuleBytes, prefix: string): MutableGlobalsExport {
  const definedGlobals = readDefinedGlobals(bytes);
  const importedGlobalCount = readImports(bytes).filter(({ kind }) => kind === 'global').length;
  const exports = readExports(bytes);
  const exportNames = new Set(exports.map(({ name }) => name));
  const exportedGlobalNames = new Map<number, string>();
  for (const { kind, index, name } of exports) {
    if (kind === 'global' && !exportedGlobalNames.has(index)) exportedGlobalNames.set(index, name);
  }

  const globals: ExportedGlobal[] = [];
  const added: ModuleExport[] = [];
  for (const [definedIndex, { valueType, mutable }] of definedGlobals.entries()) {
    if (!mutable) continue;
    const index = importedGlobalCount + definedIndex;
    const existingName = exportedGlobalNames.get(index);
    const exportName = existingName ?? `${prefix}${index}`;
    if (existingName === undefined) {
      if (exportNames.has(exportName)) {
        throw new RuntimeError(
          RuntimeErrorCode.WasmEncoding,
          `cannot export global ${index} as "${exportName}": the module already exports that name`,
        );
      }
      added.push({ name: exportName, kind: 'global', index });
    }
    globals.push({ index, exportName, type: valueType });
  }
  if (added.length === 0) return { bytes, globals };
  const exportSection = encodeVector([...exports, ...added].map(encodeExport));
  return { bytes: replaceSection(bytes, SectionId.Export, exportSection), globals };
}
