// Host functions of the OPA Wasm ABI. Named after this file, AssemblyScript imports
// them from module `env`, where the host also puts the shared `memory`.
// Builtin arguments and results are addresses of values in this module's heap.
export declare function opa_abort(messagePtr: usize): void;
export declare function opa_println(messagePtr: usize): void;
export declare function opa_builtin0(builtinId: i32, ctx: usize): usize;
export declare function opa_builtin1(builtinId: i32, ctx: usize, a: usize): usize;
export declare function opa_builtin2(builtinId: i32, ctx: usize, a: usize, b: usize): usize;
export declare function opa_builtin3(builtinId: i32, ctx: usize, a: usize, b: usize, c: usize): usize;
export declare function opa_builtin4(
  builtinId: i32,
  ctx: usize,
  a: usize,
  b: usize,
  c: usize,
  d: usize,
): usize;
