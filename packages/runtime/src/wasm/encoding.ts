import { encodeU32 } from './leb128.js';

const utf8 = new TextEncoder();

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A spec `name`: a u32 byte length followed by the UTF-8 bytes. */
export function encodeName(name: string): Uint8Array<ArrayBuffer> {
  const encoded = utf8.encode(name);
  return concatBytes([encodeU32(encoded.length), encoded]);
}

/** A spec `vec`: a u32 element count followed by the already encoded elements. */
export function encodeVector(elements: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concatBytes([encodeU32(elements.length), ...elements]);
}
