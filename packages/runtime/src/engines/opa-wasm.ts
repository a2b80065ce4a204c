import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';

const require = createRequire(import.meta.url);
type RegoBuiltins = Record<string, (...args: never[]) => unknown>;

interface OpaWasm {
  loadPolicySync(
    module: WebAssembly.Module,
    memory: WebAssembly.MemoryDescriptor,
    builtins: RegoBuiltins,
  ): LoadedPolicy;
}

/** The CommonJS build: its ESM entry does not expose `loadPolicySync`, which a worker thread needs. */
const opaWasm = require('@open-policy-agent/opa-wasm') as OpaWasm;

/**
 * `@open-policy-agent/opa-wasm` looks a builtin up in its own table before the custom builtins it is
 * given, and its own `sprintf`, `yaml.*`, `json.is_valid` and `regex.split` do not format or fail
 * the way Kubewarden's Rego engine does — so a Gatekeeper policy would print different messages.
 * Emptying that table (the library's single shared module instance) makes Castellan's
 * Kubewarden-compatible builtins the only ones, which is also Kubewarden's exact builtin set.
 */
const libraryBuiltins = require(
  join(dirname(require.resolve('@open-policy-agent/opa-wasm')), 'builtins', 'index.js'),
) as Record<string, unknown>;
for (const name of Object.keys(libraryBuiltins)) delete libraryBuiltins[name];

export type { LoadedPolicy };

export function loadRegoPolicy(
  module: WebAssembly.Module,
  memory: WebAssembly.MemoryDescriptor,
  builtins: RegoBuiltins,
): LoadedPolicy {
  return opaWasm.loadPolicySync(module, memory, builtins);
}

/** The builtins a compiled Rego module calls on its host (the names of its `builtins()` map). */
export function requiredBuiltins(loaded: LoadedPolicy): string[] {
  const instance = loaded.wasmInstance as WebAssembly.Instance;
  const exports = instance.exports as Record<string, (...args: number[]) => number>;
  const address = exports['opa_json_dump']!(exports['builtins']!());
  const bytes = new Uint8Array(loaded.mem.buffer);
  const end = bytes.indexOf(0, address);
  const map = JSON.parse(new TextDecoder().decode(bytes.subarray(address, end))) as Record<string, number>;
  return Object.keys(map);
}
