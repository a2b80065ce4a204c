import { annotatedPolicyBytes } from '../../../test/fixtures/index.js';

/**
 * A real policy made unique (and optionally large) by an extra custom section, so that tests
 * which tamper with registry storage never share a blob with another test.
 */
export async function uniquePolicy(label: string, paddingBytes = 0): Promise<Uint8Array> {
  const payload = new Uint8Array(Buffer.byteLength(label) + paddingBytes);
  payload.set(Buffer.from(label));
  return withCustomSection(await annotatedPolicyBytes('pod-privileged'), 'castellan.test', payload);
}

/** Appends a custom section (id 0): valid anywhere after the header. */
function withCustomSection(module: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const nameBytes = Buffer.from(name, 'utf8');
  const content = Buffer.concat([leb128(nameBytes.length), nameBytes, payload]);
  return new Uint8Array(Buffer.concat([module, Buffer.from([0]), leb128(content.length), content]));
}

function leb128(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = rest & 0x7f;
    rest = Math.floor(rest / 128);
    bytes.push(rest === 0 ? low : low | 0x80);
  } while (rest !== 0);
  return Buffer.from(bytes);
}
