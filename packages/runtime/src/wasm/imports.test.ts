import { describe, expect, it } from 'vitest';
import { RuntimeErrorCode } from '../errors.js';
import { concatBytes, encodeName, encodeVector } from './encoding.js';
import { readImports, renameFunctionImport } from './imports.js';
import { buildModule, encodeSection, SectionId } from './sections.js';
import type { ModuleBytes } from './sections.js';

const bytes = (...values: number[]): Uint8Array<ArrayBuffer> => Uint8Array.of(...values);
const importEntry = (module: string, name: string, description: Uint8Array): Uint8Array =>
  concatBytes([encodeName(module), encodeName(name), description]);
const moduleWithImports = (...imports: Uint8Array[]): ModuleBytes =>
  buildModule([
    // type 0: [i32] -> [i32], type 1: [i32] -> [] (an exception's payload)
    encodeSection(
      SectionId.Type,
      encodeVector([bytes(0x60, 0x01, 0x7f, 0x01, 0x7f), bytes(0x60, 0x01, 0x7f, 0x00)]),
    ),
    encodeSection(SectionId.Import, encodeVector(imports)),
  ]);

const JAVY_HOST_CALL = { module: 'kubewarden:javy/host', name: 'call' };
const HOST_CALL = { module: 'host', name: 'call' };

describe('readImports', () => {
  it('reads every kind of import', () => {
    const module = moduleWithImports(
      importEntry('env', 'f', bytes(0x00, 0x00)),
      importEntry('env', 'table', bytes(0x01, 0x70, 0x01, 0x02, 0x10)),
      importEntry('env', 'memory', bytes(0x02, 0x03, 0x01, 0x80, 0x02)),
      importEntry('env', 'sp', bytes(0x03, 0x7f, 0x01)),
      importEntry('env', 'refs', bytes(0x03, 0x6f, 0x00)),
      importEntry('env', 'failure', bytes(0x04, 0x00, 0x01)),
    );
    expect(WebAssembly.validate(module)).toBe(true);

    const imports = readImports(module);

    expect(imports).toEqual([
      { module: 'env', name: 'f', kind: 'function', typeIndex: 0 },
      {
        module: 'env',
        name: 'table',
        kind: 'table',
        elementType: 'funcref',
        limits: { min: 2, max: 16, shared: false, is64: false },
      },
      {
        module: 'env',
        name: 'memory',
        kind: 'memory',
        limits: { min: 1, max: 256, shared: true, is64: false },
      },
      { module: 'env', name: 'sp', kind: 'global', type: { valueType: 'i32', mutable: true } },
      { module: 'env', name: 'refs', kind: 'global', type: { valueType: 'externref', mutable: false } },
      { module: 'env', name: 'failure', kind: 'tag', typeIndex: 1 },
    ]);
    const seenByEngine = WebAssembly.Module.imports(new WebAssembly.Module(module));
    expect(imports.map(({ module, name, kind }) => ({ module, name, kind }))).toEqual(seenByEngine);
  });

  it('reads typed references (function references, which Node 20 cannot compile) in globals and tables', () => {
    const module = moduleWithImports(
      importEntry('env', 'callback', bytes(0x03, 0x63, 0x00, 0x01)),
      importEntry('env', 'handler', bytes(0x03, 0x64, 0x70, 0x00)),
      importEntry('env', 'callbacks', bytes(0x01, 0x63, 0x00, 0x00, 0x01)),
    );
    expect(WebAssembly.validate(module)).toBe(true);

    expect(readImports(module)).toEqual([
      { module: 'env', name: 'callback', kind: 'global', type: { valueType: '(ref null 0)', mutable: true } },
      { module: 'env', name: 'handler', kind: 'global', type: { valueType: '(ref func)', mutable: false } },
      {
        module: 'env',
        name: 'callbacks',
        kind: 'table',
        elementType: '(ref null 0)',
        limits: { min: 1, shared: false, is64: false },
      },
    ]);
  });

  it('reads 64-bit memory limits (memory64, which Node 20 cannot compile)', () => {
    const module = moduleWithImports(importEntry('env', 'memory', bytes(0x02, 0x05, 0x01, 0x80, 0x80, 0x04)));

    expect(readImports(module)).toEqual([
      {
        module: 'env',
        name: 'memory',
        kind: 'memory',
        limits: { min: 1, max: 65536, shared: false, is64: true },
      },
    ]);
  });

  it('returns no imports for a module without an import section', () => {
    expect(readImports(buildModule([]))).toEqual([]);
  });

  // `at` is the offset of the faulty byte within the import description.
  it.each([
    ['an unknown import kind', bytes(0x05, 0x00), 0, 'unknown import or export kind 0x05'],
    ['an unknown value type', bytes(0x03, 0x60, 0x00), 1, 'unsupported value type 0x60'],
    ['an unknown heap type', bytes(0x03, 0x63, 0x50, 0x00), 2, 'unsupported heap type -48'],
    ['an unknown reference type', bytes(0x01, 0x7f, 0x00, 0x01), 1, 'unsupported reference type 0x7f'],
    ['unknown limits flags', bytes(0x02, 0x08, 0x01, 0x10), 1, 'unsupported limits flags 0x08'],
    ['an invalid global mutability', bytes(0x03, 0x7f, 0x02), 2, 'invalid global mutability 0x02'],
    ['a truncated description', bytes(0x00), 1, 'unexpected end of input'],
  ])('fails clearly on %s', (_, description, at, problem) => {
    const module = moduleWithImports(importEntry('env', 'x', description));
    const offset = module.length - description.length + at;

    expect(() => readImports(module)).toThrow(`at offset ${offset} (0x${offset.toString(16)}): ${problem}`);
    expect(() => readImports(module)).toThrow(
      expect.objectContaining({ code: RuntimeErrorCode.WasmEncoding }),
    );
  });

  it('fails on bytes left after the last import', () => {
    const payload = concatBytes([encodeVector([importEntry('env', 'f', bytes(0x00, 0x00))]), bytes(0x00)]);
    const module = buildModule([
      encodeSection(SectionId.Type, encodeVector([bytes(0x60, 0x00, 0x00)])),
      encodeSection(SectionId.Import, payload),
    ]);

    expect(() => readImports(module)).toThrow(/1 unexpected bytes at the end of the import section/);
  });
});

describe('renameFunctionImport', () => {
  // Function 2 of type 0 calls imported function 1 with its argument; it is exported as `run`.
  const javyPolicy = buildModule([
    encodeSection(SectionId.Type, encodeVector([bytes(0x60, 0x01, 0x7f, 0x01, 0x7f)])),
    encodeSection(
      SectionId.Import,
      encodeVector([
        importEntry('wasi_snapshot_preview1', 'proc_exit', bytes(0x00, 0x00)),
        importEntry(JAVY_HOST_CALL.module, JAVY_HOST_CALL.name, bytes(0x00, 0x00)),
      ]),
    ),
    encodeSection(SectionId.Function, encodeVector([bytes(0x00)])),
    encodeSection(SectionId.Export, encodeVector([concatBytes([encodeName('run'), bytes(0x00, 0x02)])])),
    encodeSection(SectionId.Code, encodeVector([bytes(0x06, 0x00, 0x20, 0x00, 0x10, 0x01, 0x0b)])),
  ]);

  it('rewrites the import so that the host function is linked under its new name', () => {
    const renamed = renameFunctionImport(javyPolicy, JAVY_HOST_CALL, HOST_CALL);

    const module = new WebAssembly.Module(renamed);
    expect(WebAssembly.Module.imports(module)).toEqual([
      { module: 'wasi_snapshot_preview1', name: 'proc_exit', kind: 'function' },
      { module: 'host', name: 'call', kind: 'function' },
    ]);
    const instance = new WebAssembly.Instance(module, {
      wasi_snapshot_preview1: { proc_exit: () => 0 },
      host: { call: (value: number) => value * 2 },
    });
    expect((instance.exports['run'] as (value: number) => number)(21)).toBe(42);
  });

  it('returns the same bytes when no function is imported under that name', () => {
    expect(renameFunctionImport(javyPolicy, HOST_CALL, JAVY_HOST_CALL)).toBe(javyPolicy);
    expect(renameFunctionImport(buildModule([]), JAVY_HOST_CALL, HOST_CALL)).toEqual(buildModule([]));
  });

  it('leaves imports of other kinds with that name alone', () => {
    const module = moduleWithImports(
      importEntry(JAVY_HOST_CALL.module, JAVY_HOST_CALL.name, bytes(0x03, 0x7f, 0x00)),
    );

    expect(renameFunctionImport(module, JAVY_HOST_CALL, HOST_CALL)).toBe(module);
  });
});
