import { describe, expect, it } from 'vitest';
import { concatBytes, encodeName, encodeVector } from './encoding.js';
import { importDefinedMemory } from './import-memory.js';
import { encodeU32 } from './leb128.js';
import { buildModule, encodeSection, SectionId } from './sections.js';

/** (module (memory 1 4) (data (i32.const 0) "hi") (func (export "peek") (result i32) i32.const 0 i32.load8_u)
 *  (export "memory" (memory 0))) */
function moduleWithMemory() {
  const type = encodeSection(SectionId.Type, encodeVector([Uint8Array.of(0x60, 0x00, 0x01, 0x7f)]));
  const func = encodeSection(SectionId.Function, encodeVector([encodeU32(0)]));
  const memory = encodeSection(SectionId.Memory, encodeVector([Uint8Array.of(0x01, 0x01, 0x04)]));
  const exports = encodeSection(
    SectionId.Export,
    encodeVector([
      concatBytes([encodeName('peek'), Uint8Array.of(0x00, 0x00)]),
      concatBytes([encodeName('memory'), Uint8Array.of(0x02, 0x00)]),
    ]),
  );
  const body = Uint8Array.of(0x00, 0x41, 0x00, 0x2d, 0x00, 0x00, 0x0b);
  const code = encodeSection(SectionId.Code, encodeVector([concatBytes([encodeU32(body.length), body])]));
  const segment = concatBytes([
    Uint8Array.of(0x00, 0x41, 0x00, 0x0b),
    encodeU32(2),
    Uint8Array.of(0x68, 0x69),
  ]);
  const data = encodeSection(SectionId.Data, encodeVector([segment]));
  return buildModule([type, func, memory, exports, code, data]);
}

describe('importDefinedMemory', () => {
  it('moves the memory to an import the host provides, keeping limits and data', () => {
    const result = importDefinedMemory(moduleWithMemory(), { module: 'castellan', name: 'memory' });
    expect(result?.limits).toMatchObject({ min: 1, max: 4 });
    const module = new WebAssembly.Module(result!.bytes);
    expect(WebAssembly.Module.imports(module)).toEqual([
      { module: 'castellan', name: 'memory', kind: 'memory' },
    ]);
    const memory = new WebAssembly.Memory({ initial: 3, maximum: 4 });
    const instance = new WebAssembly.Instance(module, { castellan: { memory } });
    expect((instance.exports['peek'] as () => number)()).toBe(0x68);
    expect(instance.exports['memory']).toBe(memory);
  });

  it('leaves modules without a memory of their own alone', () => {
    const noMemory = buildModule([encodeSection(SectionId.Type, encodeVector([]))]);
    expect(importDefinedMemory(noMemory, { module: 'castellan', name: 'memory' })).toBeUndefined();
  });
});
