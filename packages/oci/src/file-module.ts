import { open } from 'node:fs/promises';
import { MODULE_SIZE_LIMIT } from './body-reader.js';
import { messageOf } from '@castellan/proto';
import { OciError, OciErrorCode } from './errors.js';
import { assertWasmMagic } from './wasm-magic.js';

/** Reads a `file://` module in place (Kubewarden never copies them), within the size limit. */
export async function readFileModule(path: string, limit: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    const file = await open(path);
    try {
      const { size } = await file.stat();
      if (size > limit) {
        throw new OciError(
          OciErrorCode.TooLarge,
          `module ${path} is ${size} bytes, more than ${limit} bytes, the ${MODULE_SIZE_LIMIT}`,
        );
      }
      const buffer = await file.readFile();
      bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } finally {
      await file.close();
    }
  } catch (error) {
    if (error instanceof OciError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : messageOf(error);
    throw new OciError(OciErrorCode.FileUnreadable, `cannot read policy module ${path}: ${why}`, {
      cause: error,
    });
  }
  assertWasmMagic(bytes, path);
  return bytes;
}
