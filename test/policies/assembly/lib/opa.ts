// The OPA Wasm ABI, version 1.2, as driven by @open-policy-agent/opa-wasm and by Kubewarden's
// burrego (docs/kubewarden-compatibility.md#rego-policies). A fixture re-exports all of it
// (`export * from`).
//
// Values: a value's address is the address of its JSONValue object. Heap: the `stub`
// runtime (build flag `--runtime stub`) is a bump allocator that never frees, which is
// the heap model the ABI assumes; the host saves the heap pointer after loading `data`
// and rewinds to it before each evaluation.
import { JSONValue, parseJSONBytes } from './json';
import { entrypointsValue, builtinsValue, evaluate, abortRego } from './rego';

export const opa_wasm_abi_version: i32 = 1;
export const opa_wasm_abi_minor_version: i32 = 2;

// The stub runtime puts a usize size header in front of every block.
const BLOCK_OVERHEAD: usize = sizeof<usize>();

export function opa_heap_ptr_get(): usize {
  // The stub runtime exposes no pointer, but freeing the most recent block rewinds
  // to its start: allocate an empty block, free it, and report where it began.
  const probe = heap.alloc(0);
  heap.free(probe);
  return probe - BLOCK_OVERHEAD;
}

export function opa_heap_ptr_set(ptr: usize): void {
  heap.reset();
  const base = opa_heap_ptr_get();
  // One filler block from the heap's start up to `ptr` (rounded up to the allocator's
  // alignment): later allocations land at or above `ptr`.
  if (ptr > base) heap.alloc(ptr - base > BLOCK_OVERHEAD ? ptr - base - BLOCK_OVERHEAD : 0);
}

export function opa_malloc(size: usize): usize {
  return heap.alloc(size);
}

export function opa_free(_ptr: usize): void {
  // Nothing to do: memory comes back when the host rewinds the heap pointer.
}

/** Parses `len` bytes of UTF-8 JSON at `addr`; returns the value's address, or 0 on error. */
export function opa_json_parse(addr: usize, len: usize): usize {
  const v = parseJSONBytes(addr, len);
  return v == null ? 0 : changetype<usize>(v);
}

/** Serialises a value; returns the address of NUL-terminated UTF-8 JSON. */
export function opa_json_dump(valueAddr: usize): usize {
  const v = valueAddr == 0 ? JSONValue.newNull() : changetype<JSONValue>(valueAddr);
  return changetype<usize>(v.toUTF8(true));
}

export function builtins(): usize {
  return changetype<usize>(builtinsValue());
}

export function entrypoints(): usize {
  return changetype<usize>(entrypointsValue());
}

class EvalContext {
  input: JSONValue | null = null;
  data: JSONValue | null = null;
  entrypoint: i32 = 0;
  result: JSONValue | null = null;
}

function valueOrNull(addr: usize): JSONValue | null {
  return addr == 0 ? null : changetype<JSONValue>(addr);
}

export function opa_eval_ctx_new(): usize {
  return changetype<usize>(new EvalContext());
}

export function opa_eval_ctx_set_input(ctx: usize, valueAddr: usize): void {
  changetype<EvalContext>(ctx).input = valueOrNull(valueAddr);
}

export function opa_eval_ctx_set_data(ctx: usize, valueAddr: usize): void {
  changetype<EvalContext>(ctx).data = valueOrNull(valueAddr);
}

export function opa_eval_ctx_set_entrypoint(ctx: usize, entrypoint: i32): void {
  changetype<EvalContext>(ctx).entrypoint = entrypoint;
}

export function opa_eval_ctx_get_result(ctx: usize): usize {
  const result = changetype<EvalContext>(ctx).result;
  return result == null ? 0 : changetype<usize>(result);
}

/** Exported as `eval` (a name TypeScript reserves); returns 0, OPA's "no error". */
function evalContext(ctx: usize): i32 {
  const c = changetype<EvalContext>(ctx);
  c.result = evaluate(c.entrypoint, c.input, c.data);
  return 0;
}
export { evalContext as eval };

/**
 * ABI 1.2 one-shot evaluation: the host has written the input JSON at `inputAddr`,
 * below `heapPtr`. Returns the address of the NUL-terminated result-set JSON.
 */
export function opa_eval(
  _reserved: usize,
  entrypoint: i32,
  dataAddr: usize,
  inputAddr: usize,
  inputLen: usize,
  heapPtr: usize,
  _format: i32,
): usize {
  opa_heap_ptr_set(heapPtr);
  let input: JSONValue | null = null;
  if (inputLen > 0) {
    input = parseJSONBytes(inputAddr, inputLen);
    if (input == null) abortRego('opa_eval: input is not valid JSON', null, 0, 0);
  }
  return changetype<usize>(evaluate(entrypoint, input, valueOrNull(dataAddr)).toUTF8(true));
}
