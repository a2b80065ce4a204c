import { describe, expect, it } from 'vitest';
import { encodeCustomSection, readCustomSection, setCustomSection } from './custom-section.js';
import { encodeVector } from './encoding.js';
import { buildModule, encodeSection, readSections, SectionId } from './sections.js';
import type { ModuleBytes } from './sections.js';

const METADATA = 'io.kubewarden.metadata';
const utf8 = new TextEncoder();
const bytes = (...values: number[]): Uint8Array<ArrayBuffer> => Uint8Array.of(...values);
const typeSection = encodeSection(SectionId.Type, encodeVector([bytes(0x60, 0x00, 0x00)]));

const customSectionsSeenByEngine = (module: ModuleBytes, name: string): number[][] =>
  WebAssembly.Module.customSections(new WebAssembly.Module(module), name).map((data) => [
    ...new Uint8Array(data),
  ]);

describe('readCustomSection', () => {
  it('returns the data after the name of the first section with that name', () => {
    const module = buildModule([
      encodeCustomSection('other', bytes(9)),
      typeSection,
      encodeCustomSection(METADATA, bytes(1, 2)),
      encodeCustomSection(METADATA, bytes(3)),
    ]);

    expect([...(readCustomSection(module, METADATA) ?? [])]).toEqual([1, 2]);
  });

  it('returns undefined when there is no such section', () => {
    expect(
      readCustomSection(buildModule([typeSection, encodeCustomSection('name', bytes())]), METADATA),
    ).toBe(undefined);
  });

  it('returns empty data for a section holding only its name', () => {
    expect(readCustomSection(buildModule([encodeCustomSection(METADATA, bytes())]), METADATA)).toEqual(
      bytes(),
    );
  });
});

describe('setCustomSection', () => {
  it('removes every section with that name and appends one with the new data', () => {
    const module = buildModule([
      encodeCustomSection(METADATA, bytes(1)),
      typeSection,
      encodeCustomSection('name', bytes(7)),
      encodeCustomSection(METADATA, bytes(2)),
    ]);
    const metadata = utf8.encode('{"protocolVersion":"v1","mutating":false}');

    const updated = setCustomSection(module, METADATA, metadata);

    expect(customSectionsSeenByEngine(updated, METADATA)).toEqual([[...metadata]]);
    expect(customSectionsSeenByEngine(updated, 'name')).toEqual([[7]]);
    expect(readSections(updated).map(({ id, name }) => name ?? id)).toEqual([
      SectionId.Type,
      'name',
      METADATA,
    ]);
    expect(readCustomSection(updated, METADATA)).toEqual(metadata);
  });

  it('appends the section when the module has none', () => {
    const module = buildModule([typeSection]);

    const updated = setCustomSection(module, METADATA, bytes(5));

    expect(updated).toEqual(buildModule([typeSection, encodeCustomSection(METADATA, bytes(5))]));
    expect(customSectionsSeenByEngine(updated, METADATA)).toEqual([[5]]);
  });

  it('encodes names as UTF-8', () => {
    const updated = setCustomSection(buildModule([]), 'métadonnées', bytes(1));

    expect(customSectionsSeenByEngine(updated, 'métadonnées')).toEqual([[1]]);
  });
});
