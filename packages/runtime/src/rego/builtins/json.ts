/**
 * `json.is_valid` (burrego `crates/burrego/src/builtins/encoding.rs`, serde_json) and `json.patch`
 * (`crates/burrego/src/builtins/json.rs`, the json-patch crate, RFC 6902).
 */
import { messageOf } from '@castellan/proto';
import jsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { expectArity, expectString, isJsonArray, isJsonObject, RegoBuiltinError } from './builtin.js';

/**
 * serde_json accepts what `JSON.parse` accepts, except numbers that overflow a double, `\u` escapes that
 * leave an unpaired surrogate, and nesting of 128 or more arrays/objects (its recursion limit).
 */
export function jsonIsValid(...args: unknown[]): boolean {
  const name = 'json.is_valid';
  expectArity(name, args, 1, 'wrong number of arguments');
  const input = expectString(name, args[0], '1st parameter is not a string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    return false;
  }
  return serdeAccepts(parsed, 1);
}

const SERDE_MAX_DEPTH = 127;
// With the `u` flag a paired surrogate is one code point, so only unpaired halves match.
const LONE_SURROGATE = /\p{Surrogate}/u;

function serdeAccepts(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value === 'string') return !LONE_SURROGATE.test(value);
  if (typeof value !== 'object' || value === null) return true;
  if (depth > SERDE_MAX_DEPTH) return false;
  if (isJsonArray(value)) return value.every((item) => serdeAccepts(item, depth + 1));
  return Object.entries(value).every(
    ([key, item]) => !LONE_SURROGATE.test(key) && serdeAccepts(item, depth + 1),
  );
}

const PATCH_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

export function jsonPatchApply(...args: unknown[]): unknown {
  const name = 'json.patch';
  expectArity(name, args, 2, 'wrong number of arguments');
  const [document, patch] = args;
  if (!isJsonObject(document)) throw new RegoBuiltinError(name, '1st parameter is not an object');
  if (!isJsonArray(patch)) throw new RegoBuiltinError(name, '2nd parameter is not an array');
  // burrego deserialises the operations with `unwrap()`: a malformed one is a panic, not a patch error.
  if (!patch.every(isPatchOperation)) {
    throw new RegoBuiltinError(name, 'malformed JSON patch operation (burrego panics here)');
  }
  try {
    return jsonPatch.applyPatch(document, patch, true, false).newDocument;
  } catch (error) {
    throw new RegoBuiltinError(name, `cannot apply patch: ${messageOf(error)}`);
  }
}

// The json-patch crate's serde shape: a known `op`, valid JSON pointers (json-patch 4 parses them with
// jsonptr), and a `value` where one is required.
function isPatchOperation(value: unknown): value is Operation {
  if (!isJsonObject(value)) return false;
  const { op, path, from } = value;
  if (typeof op !== 'string' || !PATCH_OPS.has(op) || !isJsonPointer(path)) return false;
  if ((op === 'move' || op === 'copy') && !isJsonPointer(from)) return false;
  return !(op === 'add' || op === 'replace' || op === 'test') || 'value' in value;
}

function isJsonPointer(value: unknown): boolean {
  return typeof value === 'string' && /^(?:\/(?:[^~]|~[01])*)*$/u.test(value);
}
