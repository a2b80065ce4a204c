import { describe, expect, it } from 'vitest';
import { encodeCustomSection } from './custom-section.js';
import { describeModule } from './describe.js';
import { concatBytes, encodeName, encodeVector } from './encoding.js';
import { buildModule, encodeSection, SectionId } from './sections.js';

const bytes = (...values: number[]): Uint8Array<ArrayBuffer> => Uint8Array.of(...values);
const metadata = new TextEncoder().encode('{"protocolVersion":"v1"}');

describe('describeModule', () => {
  it('lists custom sections with their size, and the memory limits', () => {
    const module = buildModule([
      encodeSection(SectionId.Memory, encodeVector([bytes(0x01, 0x02, 0x10)])),
      encodeCustomSection('name', bytes(1, 2, 3)),
      encodeCustomSection('io.kubewarden.metadata', metadata),
    ]);
    expect(WebAssembly.validate(module)).toBe(true);

    expect(describeModule(module)).toEqual({
      customSections: [
        { name: 'name', size: encodeName('name').length + 3 },
        {
          name: 'io.kubewarden.metadata',
          size: encodeName('io.kubewarden.metadata').length + metadata.length,
        },
      ],
      memories: [{ index: 0, imported: false, limits: { min: 2, max: 16, shared: false, is64: false } }],
    });
  });

  it('numbers imported memories first, as the memory index space does (multi-memory, not in Node 20)', () => {
    const module = buildModule([
      encodeSection(
        SectionId.Import,
        encodeVector([concatBytes([encodeName('env'), encodeName('memory'), bytes(0x02, 0x00, 0x01)])]),
      ),
      encodeSection(SectionId.Memory, encodeVector([bytes(0x00, 0x03)])),
    ]);

    expect(describeModule(module).memories).toEqual([
      { index: 0, imported: true, limits: { min: 1, max: undefined, shared: false, is64: false } },
      { index: 1, imported: false, limits: { min: 3, max: undefined, shared: false, is64: false } },
    ]);
  });
});
