import { OciError, OciErrorCode } from './errors.js';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * Kubewarden refuses anything not starting with `\0asm` with "invalid wasm file"
 * (docs/kubewarden-compatibility.md#oci-artifact-layout).
 */
export function assertWasmMagic(bytes: Uint8Array, source: string): void {
  if (!WASM_MAGIC.every((byte, index) => bytes[index] === byte)) {
    throw new OciError(
      OciErrorCode.InvalidWasm,
      `invalid wasm file: ${source} does not start with the WebAssembly magic bytes \\0asm`,
    );
  }
}
