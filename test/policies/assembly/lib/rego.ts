// What a Rego fixture defines (its entrypoints, builtins and evaluation), and the host
// functions it may use. lib/opa.ts turns this into the OPA Wasm ABI exports.
import { JSONValue, parseJSON } from './json';
import {
  opa_abort,
  opa_println,
  opa_builtin0,
  opa_builtin1,
  opa_builtin2,
  opa_builtin3,
  opa_builtin4,
} from './env';

/** Evaluates one entrypoint and returns the result set: an array of {"result": ...}. */
export type Evaluator = (entrypoint: i32, input: JSONValue | null, data: JSONValue | null) => JSONValue;

function noResults(_entrypoint: i32, _input: JSONValue | null, _data: JSONValue | null): JSONValue {
  return JSONValue.newArray();
}

// Kept as JSON text in static data, never as heap values: the host rewinds the heap
// between evaluations, which would overwrite anything allocated lazily.
let entrypointsText = '{}';
let builtinsText = '{}';
let evaluator: Evaluator = noResults;

/**
 * Declares the fixture. `entrypoints` maps names to ids, e.g. '{"policy/main":0}';
 * `builtins` maps the host builtins the module calls to the ids it calls them by.
 */
export function definePolicy(entrypoints: string, builtins: string, evaluate: Evaluator): void {
  entrypointsText = entrypoints;
  builtinsText = builtins;
  evaluator = evaluate;
}

export function entrypointsValue(): JSONValue {
  return <JSONValue>parseJSON(entrypointsText);
}

export function builtinsValue(): JSONValue {
  return <JSONValue>parseJSON(builtinsText);
}

export function evaluate(entrypoint: i32, input: JSONValue | null, data: JSONValue | null): JSONValue {
  return evaluator(entrypoint, input, data);
}

/** Calls host builtin `id` (as numbered by `builtins()`); a missing result aborts. */
export function callBuiltin(id: i32, args: JSONValue[]): JSONValue {
  const a = args.length > 0 ? changetype<usize>(args[0]) : 0;
  const b = args.length > 1 ? changetype<usize>(args[1]) : 0;
  const c = args.length > 2 ? changetype<usize>(args[2]) : 0;
  const d = args.length > 3 ? changetype<usize>(args[3]) : 0;
  let result: usize = 0;
  if (args.length == 0) result = opa_builtin0(id, 0);
  else if (args.length == 1) result = opa_builtin1(id, 0, a);
  else if (args.length == 2) result = opa_builtin2(id, 0, a, b);
  else if (args.length == 3) result = opa_builtin3(id, 0, a, b, c);
  else if (args.length == 4) result = opa_builtin4(id, 0, a, b, c, d);
  else abortRego('builtins take at most 4 arguments', null, 0, 0);
  // The host answers with the address opa_json_parse gave its result; 0 means undefined.
  if (result == 0) abortRego('builtin ' + id.toString() + ' returned no value', null, 0, 0);
  return changetype<JSONValue>(result);
}

/** A line on the host's console (opa_println). */
export function println(line: string): void {
  opa_println(changetype<usize>(String.UTF8.encode(line, true)));
}

// AssemblyScript's `abort` (build flag `--use abort=...`) reports through opa_abort,
// as OPA-compiled modules do; the host raises an error, and if it returns we trap.
export function abortRego(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = 'abort: ' + (message != null ? message : '');
  if (fileName != null) text += ' in ' + fileName + '(' + line.toString() + ':' + column.toString() + ')';
  opa_abort(changetype<usize>(String.UTF8.encode(text, true)));
  unreachable();
}
