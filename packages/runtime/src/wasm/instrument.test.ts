import { describe, expect, it } from 'vitest';
import { RuntimeErrorCode } from '../errors.js';
import { describeModule } from './describe.js';
import { concatBytes, encodeName, encodeVector } from './encoding.js';
import { readExports } from './exports.js';
import { capMemory, exportMutableGlobals } from './instrument.js';
import { encodeI32, encodeI64, encodeU32 } from './leb128.js';
import { buildModule, encodeSection, SectionId } from './sections.js';
import type { ModuleBytes } from './sections.js';

const bytes = (...values: number[]): Uint8Array<ArrayBuffer> => Uint8Array.of(...values);
const exportEntry = (name: string, kind: number, index: number): Uint8Array =>
  concatBytes([encodeName(name), bytes(kind, index)]);
const importEntry = (module: string, name: string, description: Uint8Array): Uint8Array =>
  concatBytes([encodeName(module), encodeName(name), description]);

const EXPORT_FUNCTION = 0x00;
const EXPORT_MEMORY = 0x02;
const EXPORT_GLOBAL = 0x03;
const MUTABLE = 0x01;
const IMMUTABLE = 0x00;

/** A code section entry: a function without locals running `instructions`. */
function functionBody(instructions: Uint8Array): Uint8Array {
  const body = concatBytes([bytes(0x00), instructions, bytes(0x0b)]);
  return concatBytes([encodeU32(body.length), body]);
}

function float32(value: number): Uint8Array {
  const encoded = new Uint8Array(4);
  new DataView(encoded.buffer).setFloat32(0, value, true);
  return encoded;
}

function float64(value: number): Uint8Array {
  const encoded = new Uint8Array(8);
  new DataView(encoded.buffer).setFloat64(0, value, true);
  return encoded;
}

describe('capMemory', () => {
  /** A module defining one memory with the given limits encoding, exported as `memory`. */
  const moduleWithMemory = (limits: Uint8Array): ModuleBytes =>
    buildModule([
      encodeSection(SectionId.Memory, encodeVector([limits])),
      encodeSection(SectionId.Export, encodeVector([exportEntry('memory', EXPORT_MEMORY, 0)])),
    ]);
  const definedMemoryLimits = (module: Uint8Array) =>
    describeModule(module).memories.map(({ limits }) => limits);
  const memoryOf = (module: ModuleBytes) =>
    new WebAssembly.Instance(new WebAssembly.Module(module)).exports['memory'] as WebAssembly.Memory;

  it('gives a memory without a maximum the limit as maximum, which the engine enforces', () => {
    const capped = capMemory(moduleWithMemory(bytes(0x00, 0x01)), 4);

    expect(definedMemoryLimits(capped)).toEqual([{ min: 1, max: 4, shared: false, is64: false }]);
    const memory = memoryOf(capped);
    expect(memory.grow(3)).toBe(1);
    expect(() => memory.grow(1)).toThrow(RangeError);
  });

  it('lowers a maximum above the limit', () => {
    const capped = capMemory(moduleWithMemory(bytes(0x01, 0x01, 0x80, 0x02)), 16);

    expect(definedMemoryLimits(capped)).toEqual([{ min: 1, max: 16, shared: false, is64: false }]);
    expect(WebAssembly.validate(capped)).toBe(true);
  });

  it('keeps a maximum below the limit', () => {
    const module = moduleWithMemory(bytes(0x01, 0x01, 0x02));

    expect(capMemory(module, 16)).toEqual(module);
  });

  it.each([
    [32, 16, 'module needs 2 MiB of memory (32 pages of 64 KiB) but the limit is 1 MiB'],
    [17, 16, 'module needs 1.06 MiB of memory (17 pages of 64 KiB) but the limit is 1 MiB'],
  ])('refuses a module whose initial memory of %d pages exceeds %d pages', (minPages, maxPages, message) => {
    const module = moduleWithMemory(concatBytes([bytes(0x00), encodeU32(minPages)]));

    expect(() => capMemory(module, maxPages)).toThrow(message);
    expect(() => capMemory(module, maxPages)).toThrow(
      expect.objectContaining({ code: RuntimeErrorCode.MemoryLimitExceeded }),
    );
  });

  it('does not touch imported memories, which the host creates', () => {
    const module = buildModule([
      encodeSection(SectionId.Import, encodeVector([importEntry('env', 'memory', bytes(0x02, 0x00, 0x40))])),
    ]);

    expect(capMemory(module, 16)).toBe(module);
  });

  it('returns a module without memory unchanged', () => {
    const module = buildModule([]);

    expect(capMemory(module, 16)).toBe(module);
  });

  it('keeps the limits of shared memories', () => {
    const module = moduleWithMemory(bytes(0x03, 0x01, 0x80, 0x02));
    expect(WebAssembly.validate(module)).toBe(true);

    expect(capMemory(module, 16)).toEqual(module);
  });

  it('keeps the limits of 64-bit memories (which Node 20 cannot compile) but checks their minimum', () => {
    expect(capMemory(moduleWithMemory(bytes(0x04, 0x01)), 16)).toEqual(moduleWithMemory(bytes(0x04, 0x01)));
    expect(() => capMemory(moduleWithMemory(bytes(0x04, 0x20)), 16)).toThrow('module needs 2 MiB of memory');
  });

  it.each([-1, 1.5, 65537])('refuses a limit of %d pages', (maxPages) => {
    expect(() => capMemory(moduleWithMemory(bytes(0x00, 0x01)), maxPages)).toThrow(RangeError);
  });
});

describe('exportMutableGlobals', () => {
  const PREFIX = '__castellan_global_';

  /** A module with the given global section entries (type, mutability, init expression and `end`). */
  const moduleWithGlobals = (globals: Uint8Array[], exports: Uint8Array[] = []): ModuleBytes =>
    buildModule([
      encodeSection(SectionId.Global, encodeVector(globals)),
      ...(exports.length > 0 ? [encodeSection(SectionId.Export, encodeVector(exports))] : []),
    ]);
  const global = (type: number, mutability: number, ...init: Uint8Array[]): Uint8Array =>
    concatBytes([bytes(type, mutability), ...init, bytes(0x0b)]);

  // Globals 0 and 1 are imported; `bump` increments global 3, a stack pointer that is not exported.
  const policy = buildModule([
    encodeSection(SectionId.Type, encodeVector([bytes(0x60, 0x00, 0x01, 0x7f)])),
    encodeSection(
      SectionId.Import,
      encodeVector([
        importEntry('env', 'base', bytes(0x03, 0x7f, IMMUTABLE)),
        importEntry('env', 'flag', bytes(0x03, 0x7f, MUTABLE)),
      ]),
    ),
    encodeSection(SectionId.Function, encodeVector([bytes(0x00)])),
    encodeSection(
      SectionId.Global,
      encodeVector([
        global(0x7f, IMMUTABLE, bytes(0x23, 0x00)), // 2: global.get 0
        global(0x7f, MUTABLE, bytes(0x41), encodeI32(65536)), // 3: the stack pointer
        global(0x7e, MUTABLE, bytes(0x42), encodeI64(-5n)), // 4: exported twice
        global(0x7d, MUTABLE, bytes(0x43), float32(1.5)), // 5
        global(0x7c, MUTABLE, bytes(0x44), float64(2.5)), // 6
        global(0x70, MUTABLE, bytes(0xd2, 0x00)), // 7: ref.func 0
        global(0x6f, MUTABLE, bytes(0xd0, 0x6f)), // 8: ref.null extern
        global(0x7b, MUTABLE, bytes(0xfd, 0x0c), new Uint8Array(16)), // 9: v128.const 0
      ]),
    ),
    encodeSection(
      SectionId.Export,
      encodeVector([
        exportEntry('bump', EXPORT_FUNCTION, 0),
        exportEntry('counter', EXPORT_GLOBAL, 4),
        exportEntry('counter_alias', EXPORT_GLOBAL, 4),
      ]),
    ),
    // bump: global.set 3 (global.get 3 + 1); global.get 3
    encodeSection(
      SectionId.Code,
      encodeVector([functionBody(bytes(0x23, 0x03, 0x41, 0x01, 0x6a, 0x24, 0x03, 0x23, 0x03))]),
    ),
  ]);
  const imports = {
    env: {
      base: new WebAssembly.Global({ value: 'i32', mutable: false }, 7),
      flag: new WebAssembly.Global({ value: 'i32', mutable: true }, 0),
    },
  };

  it('exports every mutable global the module defines, under its existing name if it has one', () => {
    expect(WebAssembly.validate(policy)).toBe(true);

    const { bytes: instrumented, globals } = exportMutableGlobals(policy, PREFIX);

    expect(globals).toEqual([
      { index: 3, exportName: `${PREFIX}3`, type: 'i32' },
      { index: 4, exportName: 'counter', type: 'i64' },
      { index: 5, exportName: `${PREFIX}5`, type: 'f32' },
      { index: 6, exportName: `${PREFIX}6`, type: 'f64' },
      { index: 7, exportName: `${PREFIX}7`, type: 'funcref' },
      { index: 8, exportName: `${PREFIX}8`, type: 'externref' },
      { index: 9, exportName: `${PREFIX}9`, type: 'v128' },
    ]);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(instrumented), imports);
    const exported = (name: string) => instance.exports[name] as WebAssembly.Global;
    expect(exported(`${PREFIX}3`).value).toBe(65536);
    expect(exported('counter').value).toBe(-5n);
    expect(exported(`${PREFIX}5`).value).toBe(1.5);
    expect(exported(`${PREFIX}6`).value).toBe(2.5);
    expect(exported(`${PREFIX}7`).value).toBe(instance.exports['bump']);
    expect(exported(`${PREFIX}8`).value).toBe(null);
  });

  it('lets the host restore a non-exported stack pointer between calls', () => {
    const { bytes: instrumented } = exportMutableGlobals(policy, PREFIX);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(instrumented), imports);
    const bump = instance.exports['bump'] as () => number;
    const stackPointer = instance.exports[`${PREFIX}3`] as WebAssembly.Global;
    const snapshot = stackPointer.value as number;

    expect(bump()).toBe(65537);
    stackPointer.value = snapshot;
    expect(bump()).toBe(65537);
  });

  it('adds an export section to a module that has none', () => {
    const module = moduleWithGlobals([global(0x7f, MUTABLE, bytes(0x41, 0x00))]);

    const { bytes: instrumented, globals } = exportMutableGlobals(module, PREFIX);

    expect(globals).toEqual([{ index: 0, exportName: `${PREFIX}0`, type: 'i32' }]);
    expect(WebAssembly.Module.exports(new WebAssembly.Module(instrumented))).toEqual([
      { name: `${PREFIX}0`, kind: 'global' },
    ]);
  });

  it('returns the module unchanged when every mutable global is already exported', () => {
    const module = moduleWithGlobals(
      [global(0x7f, IMMUTABLE, bytes(0x41, 0x00)), global(0x7f, MUTABLE, bytes(0x41, 0x00))],
      [exportEntry('sp', EXPORT_GLOBAL, 1)],
    );

    expect(exportMutableGlobals(module, PREFIX)).toEqual({
      bytes: module,
      globals: [{ index: 1, exportName: 'sp', type: 'i32' }],
    });
    expect(exportMutableGlobals(module, PREFIX).bytes).toBe(module);
    expect(exportMutableGlobals(buildModule([]), PREFIX)).toEqual({ bytes: buildModule([]), globals: [] });
  });

  it('skips extended constant expressions (which Node 20 compiles only behind a flag)', () => {
    const module = moduleWithGlobals([
      global(0x7f, MUTABLE, bytes(0x41, 0x01, 0x41, 0x02, 0x6a, 0x41, 0x03, 0x6b, 0x41, 0x04, 0x6c)),
      global(0x7e, MUTABLE, bytes(0x42, 0x01, 0x42, 0x02, 0x7c, 0x42, 0x03, 0x7d, 0x42, 0x04, 0x7e)),
    ]);

    const { bytes: instrumented } = exportMutableGlobals(module, PREFIX);

    expect(readExports(instrumented)).toEqual([
      { name: `${PREFIX}0`, kind: 'global', index: 0 },
      { name: `${PREFIX}1`, kind: 'global', index: 1 },
    ]);
  });

  it.each([
    ['local.get', bytes(0x20, 0x00), 'unsupported instruction 0x20 in a constant expression'],
    ['a SIMD instruction other than v128.const', bytes(0xfd, 0x11), 'unsupported instruction 0xfd 17'],
    ['a missing end', bytes(0x41, 0x00), 'offset 15 (0xf): unexpected end of input'],
  ])('throws on %s in an initialiser so that the caller can fall back', (_, init, message) => {
    const module = moduleWithGlobals([concatBytes([bytes(0x7f, MUTABLE), init])]);

    expect(() => exportMutableGlobals(module, PREFIX)).toThrow(message);
    expect(() => exportMutableGlobals(module, PREFIX)).toThrow(
      expect.objectContaining({ code: RuntimeErrorCode.WasmEncoding }),
    );
  });

  it('refuses to shadow an export that already uses the generated name', () => {
    const module = moduleWithGlobals(
      [global(0x7f, IMMUTABLE, bytes(0x41, 0x00)), global(0x7f, MUTABLE, bytes(0x41, 0x00))],
      [exportEntry(`${PREFIX}1`, EXPORT_GLOBAL, 0)],
    );

    expect(() => exportMutableGlobals(module, PREFIX)).toThrow(
      `cannot export global 1 as "${PREFIX}1": the module already exports that name`,
    );
  });
});
