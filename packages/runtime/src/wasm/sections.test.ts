import { describe, expect, it } from 'vitest';
import { RuntimeErrorCode } from '../errors.js';
import { encodeCustomSection } from './custom-section.js';
import { concatBytes, encodeName, encodeVector } from './encoding.js';
import {
  buildModule,
  encodeSection,
  MODULE_HEADER,
  readSections,
  replaceSection,
  SectionId,
} from './sections.js';

const bytes = (...values: number[]): Uint8Array<ArrayBuffer> => Uint8Array.of(...values);

// A function `run` of type [] -> [] with an empty body.
const typeSection = encodeSection(SectionId.Type, encodeVector([bytes(0x60, 0x00, 0x00)]));
const functionSection = encodeSection(SectionId.Function, encodeVector([bytes(0x00)]));
const exportRun = (name: string) =>
  encodeSection(SectionId.Export, encodeVector([concatBytes([encodeName(name), bytes(0x00, 0x00)])]));
const codeSection = encodeSection(SectionId.Code, encodeVector([bytes(0x02, 0x00, 0x0b)]));
const memorySection = encodeSection(SectionId.Memory, encodeVector([bytes(0x00, 0x01)]));

const sectionIds = (module: Uint8Array): number[] => readSections(module).map(({ id }) => id);
const exportNames = (module: Uint8Array<ArrayBuffer>): string[] =>
  WebAssembly.Module.exports(new WebAssembly.Module(module)).map(({ name }) => name);

describe('readSections', () => {
  it('lists each section with its offsets, and custom sections with their name', () => {
    const producers = encodeCustomSection('producers', bytes(1, 2, 3));
    const module = buildModule([typeSection, functionSection, exportRun('run'), codeSection, producers]);
    expect(WebAssembly.validate(module)).toBe(true);

    const sections = readSections(module);

    expect(sections.map(({ id, name }) => ({ id, name }))).toEqual([
      { id: SectionId.Type, name: undefined },
      { id: SectionId.Function, name: undefined },
      { id: SectionId.Export, name: undefined },
      { id: SectionId.Code, name: undefined },
      { id: SectionId.Custom, name: 'producers' },
    ]);
    expect(sections[0]?.start).toBe(MODULE_HEADER.length);
    for (const [i, section] of sections.entries()) {
      expect(module[section.start]).toBe(section.id);
      expect(section.end).toBe(sections[i + 1]?.start ?? module.length);
    }
    const custom = sections[4];
    expect(custom && [...module.subarray(custom.payloadStart, custom.end)]).toEqual([
      ...encodeName('producers'),
      1,
      2,
      3,
    ]);
  });

  it('accepts a module with no sections', () => {
    expect(readSections(buildModule([]))).toEqual([]);
  });

  const header = [...MODULE_HEADER];
  it.each([
    ['a file shorter than the header', [0x00, 0x61, 0x73], /offset 0 .*3 bytes is too short/],
    ['an ELF binary', [0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00], /magic .*found 7f 45 4c 46/],
    [
      'another binary version',
      [0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00],
      /offset 4 .*version 02 00 00 00/,
    ],
    [
      'a component',
      [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00],
      /a WebAssembly component, not a core module/,
    ],
    [
      'a section larger than the file',
      [...header, 0x01, 0x05, 0x01],
      /offset 8 .*declares 5 bytes but only 1 remain/,
    ],
    ['a truncated section size', [...header, 0x01, 0x80], /offset 10 .*unexpected end of input/],
    ['an unknown section id', [...header, 0x0e, 0x00], /offset 8 .*unknown section id 14/],
    [
      'sections out of order',
      [...header, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00],
      /offset 11 .*section 1 is duplicated/,
    ],
    ['a duplicated section', [...header, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00], /offset 11 .*out of order/],
    [
      'a custom section name past its end',
      [...header, 0x00, 0x02, 0x05, 0x61],
      /offset 11 .*expected 5 more bytes but only 1 remain/,
    ],
  ])('rejects %s, as the engine does', (_, module, message) => {
    const encoded = Uint8Array.from(module);
    expect(WebAssembly.validate(encoded)).toBe(false);
    expect(() => readSections(encoded)).toThrow(message);
    expect(() => readSections(encoded)).toThrow(
      expect.objectContaining({ code: RuntimeErrorCode.WasmEncoding }),
    );
  });
});

describe('replaceSection', () => {
  it('replaces an existing section in place', () => {
    const module = buildModule([typeSection, functionSection, exportRun('run'), codeSection]);
    const export_ = encodeVector([concatBytes([encodeName('main'), bytes(0x00, 0x00)])]);

    const replaced = replaceSection(module, SectionId.Export, export_);

    expect(exportNames(replaced)).toEqual(['main']);
    expect(sectionIds(replaced)).toEqual(sectionIds(module));
  });

  it('inserts a missing section before trailing custom sections', () => {
    const module = buildModule([
      typeSection,
      functionSection,
      codeSection,
      encodeCustomSection('name', bytes()),
    ]);
    const export_ = encodeVector([concatBytes([encodeName('run'), bytes(0x00, 0x00)])]);

    const inserted = replaceSection(module, SectionId.Export, export_);

    expect(sectionIds(inserted)).toEqual([
      SectionId.Type,
      SectionId.Function,
      SectionId.Export,
      SectionId.Code,
      0,
    ]);
    expect(exportNames(inserted)).toEqual(['run']);
  });

  it('inserts a missing section before the first section that must follow it', () => {
    const module = buildModule([
      encodeCustomSection('first', bytes()),
      typeSection,
      functionSection,
      encodeCustomSection('between', bytes()),
      codeSection,
    ]);

    const inserted = replaceSection(module, SectionId.Memory, encodeVector([bytes(0x00, 0x01)]));

    expect(sectionIds(inserted)).toEqual([
      0,
      SectionId.Type,
      SectionId.Function,
      0,
      SectionId.Memory,
      SectionId.Code,
    ]);
    expect(WebAssembly.validate(inserted)).toBe(true);
  });

  it('inserts into a module that has only custom sections right after the header', () => {
    const module = buildModule([encodeCustomSection('name', bytes())]);

    const inserted = replaceSection(module, SectionId.Memory, encodeVector([bytes(0x00, 0x01)]));

    expect(inserted).toEqual(buildModule([memorySection, encodeCustomSection('name', bytes())]));
    expect(WebAssembly.validate(inserted)).toBe(true);
  });

  it('refuses custom sections, which have their own helper', () => {
    expect(() => replaceSection(buildModule([]), SectionId.Custom, bytes())).toThrow(RangeError);
  });
});
