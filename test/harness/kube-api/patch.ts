// JSON merge patch (RFC 7386) and JSON patch (RFC 6902), as the API server applies them.
import { isDeepStrictEqual } from 'node:util';
import { KubeApiError, badRequest } from './errors.js';
import { isPlainObject } from './types.js';

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Parses a JSON patch document; a malformed one is a 400 as in the API server. */
export function parseJsonPatch(body: unknown): JsonPatchOperation[] {
  if (!Array.isArray(body)) throw badRequest('json patch must be an array of operations');
  return body.map((operation: unknown, index) => {
    if (!isPlainObject(operation) || typeof operation.op !== 'string' || !OPS.has(operation.op)) {
      throw badRequest(`json patch operation ${index}: unknown or missing "op"`);
    }
    if (typeof operation.path !== 'string') throw badRequest(`json patch operation ${index}: missing "path"`);
    if ((operation.op === 'move' || operation.op === 'copy') && typeof operation.from !== 'string') {
      throw badRequest(`json patch operation ${index}: missing "from"`);
    }
    if (['add', 'replace', 'test'].includes(operation.op) && !('value' in operation)) {
      throw badRequest(`json patch operation ${index}: missing "value"`);
    }
    return operation as unknown as JsonPatchOperation;
  });
}

/** Failure while applying: the API server answers 422 with the library's message. */
function cannotApply(message: string): KubeApiError {
  return new KubeApiError(422, 'Invalid', message);
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw cannotApply(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(array: unknown[], segment: string, allowEnd: boolean): number {
  if (allowEnd && segment === '-') return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(segment)) throw cannotApply(`invalid array index ${JSON.stringify(segment)}`);
  const index = Number(segment);
  if (index > array.length || (!allowEnd && index === array.length)) {
    throw cannotApply(`array index ${index} out of bounds`);
  }
  return index;
}

function getAt(document: unknown, segments: string[]): unknown {
  let node = document;
  for (const segment of segments) {
    if (Array.isArray(node)) node = node[arrayIndex(node, segment, false)];
    else if (isPlainObject(node) && segment in node) node = node[segment];
    else throw cannotApply(`missing value at /${segments.join('/')}`);
  }
  return node;
}

/** The container holding the last segment, and that segment. */
function parentOf(document: unknown, segments: string[]): [Record<string, unknown> | unknown[], string] {
  const last = segments[segments.length - 1];
  if (last === undefined) throw cannotApply('the root cannot be the target of this operation');
  const parent = getAt(document, segments.slice(0, -1));
  if (!Array.isArray(parent) && !isPlainObject(parent)) {
    throw cannotApply(`parent of /${segments.join('/')} is not an object or array`);
  }
  return [parent, last];
}

function add(document: unknown, segments: string[], value: unknown): unknown {
  if (segments.length === 0) return value;
  const [parent, key] = parentOf(document, segments);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, value);
  else parent[key] = value;
  return document;
}

function remove(document: unknown, segments: string[]): unknown {
  const [parent, key] = parentOf(document, segments);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false), 1);
  else if (key in parent) delete parent[key];
  else throw cannotApply(`missing value at /${segments.join('/')}`);
  return document;
}

export function applyJsonPatch(target: unknown, operations: readonly JsonPatchOperation[]): unknown {
  let document = structuredClone(target);
  for (const operation of operations) {
    const path = pointer(operation.path);
    switch (operation.op) {
      case 'add':
        document = add(document, path, structuredClone(operation.value));
        break;
      case 'remove':
        document = remove(document, path);
        break;
      case 'replace':
        getAt(document, path);
        document = path.length === 0 ? structuredClone(operation.value) : document;
        if (path.length > 0) document = add(remove(document, path), path, structuredClone(operation.value));
        break;
      case 'move': {
        const from = pointer(operation.from ?? '');
        const value = getAt(document, from);
        document = add(remove(document, from), path, value);
        break;
      }
      case 'copy':
        document = add(document, path, structuredClone(getAt(document, pointer(operation.from ?? ''))));
        break;
      case 'test':
        if (!isDeepStrictEqual(getAt(document, path), operation.value)) {
          throw cannotApply(`testing value ${operation.path} failed`);
        }
        break;
    }
  }
  return document;
}
