import { RuntimeError, RuntimeErrorCode } from '../errors.js';

/**
 * The error for bytes this toolkit cannot decode: malformed, or using an encoding it does not know.
 * The offset lets a user find the bytes with `wasm-objdump` or a hex editor.
 */
export function wasmDecodeError(problem: string, offset: number): RuntimeError {
  return new RuntimeError(
    RuntimeErrorCode.WasmEncoding,
    `cannot decode WebAssembly module at offset ${offset} (0x${offset.toString(16)}): ${problem}`,
  );
}
