// Host functions of the waPC ABI (docs/kubewarden-compatibility.md#wapc-abi). AssemblyScript
// imports a bodiless `declare function` from the module named after its file, so this file being
// called `wapc.ts` makes each of these an import `wapc.<name>` (no decorators needed). Lengths and
// pointers are i32 on wasm32; `usize` is i32 there.

export declare function __guest_request(opPtr: usize, msgPtr: usize): void;
export declare function __guest_response(ptr: usize, len: usize): void;
export declare function __guest_error(ptr: usize, len: usize): void;
export declare function __host_call(
  bindingPtr: usize,
  bindingLen: usize,
  namespacePtr: usize,
  namespaceLen: usize,
  operationPtr: usize,
  operationLen: usize,
  payloadPtr: usize,
  payloadLen: usize,
): bool;
export declare function __host_response_len(): usize;
export declare function __host_response(ptr: usize): void;
export declare function __host_error_len(): usize;
export declare function __host_error(ptr: usize): void;
export declare function __console_log(ptr: usize, len: usize): void;
