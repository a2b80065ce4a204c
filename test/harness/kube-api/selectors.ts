// labelSelector and fieldSelector query parameters, parsed into predicates on objects.
import { badRequest } from './errors.js';
import type { KubeObject } from './types.js';
import { isPlainObject } from './types.js';

type Requirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | 'doesnotexist' };

export type ObjectPredicate = (object: KubeObject) => boolean;

/** Splits on commas outside parentheses: `a in (x,y),b` → [`a in (x,y)`, `b`]. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += char;
  }
  terms.push(current);
  return terms.map((term) => term.trim()).filter((term) => term !== '');
}

function parseRequirement(term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (set?.[1] && set[2] && set[3] !== undefined) {
    const values = set[3].split(',').map((value) => value.trim());
    return { key: set[1], op: set[2] as 'in' | 'notin', values };
  }
  const equality = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (equality?.[1] && equality[2] && equality[3] !== undefined) {
    return { key: equality[1], op: equality[2] === '!=' ? 'notin' : 'in', values: [equality[3]] };
  }
  const absent = /^!\s*(\S+)$/.exec(term);
  if (absent?.[1]) return { key: absent[1], op: 'doesnotexist' };
  if (/^[^\s!=(),]+$/.test(term)) return { key: term, op: 'exists' };
  throw badRequest(`unable to parse requirement: ${JSON.stringify(term)}`);
}

function matches(requirement: Requirement, value: string | undefined): boolean {
  switch (requirement.op) {
    case 'in':
      return value !== undefined && requirement.values.includes(value);
    case 'notin':
      return value === undefined || !requirement.values.includes(value);
    case 'exists':
      return value !== undefined;
    case 'doesnotexist':
      return value === undefined;
  }
}

/** Equality- and set-based label selectors (`a=b,c!=d,e in (x,y),f,!g`). */
export function parseLabelSelector(selector: string | null): ObjectPredicate {
  if (!selector) return () => true;
  const requirements = splitTerms(selector).map(parseRequirement);
  return (object) => requirements.every((r) => matches(r, object.metadata.labels?.[r.key]));
}

/** The string value at a dotted path such as `metadata.name` or `spec.type`. */
function fieldValue(object: KubeObject, path: string): string | undefined {
  let node: unknown = object;
  for (const segment of path.split('.')) node = isPlainObject(node) ? node[segment] : undefined;
  if (node === undefined || node === null) return path === 'metadata.namespace' ? '' : undefined;
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  return JSON.stringify(node);
}

/**
 * Equality field selectors (`metadata.name=x`, `metadata.namespace!=y`). Any dotted field path is
 * accepted, where the real server allows only a per-kind list.
 */
export function parseFieldSelector(selector: string | null): ObjectPredicate {
  if (!selector) return () => true;
  const requirements = splitTerms(selector).map((term) => {
    const parsed = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (!parsed?.[1] || !parsed[2] || parsed[3] === undefined) {
      throw badRequest(`invalid field selector: ${JSON.stringify(term)}`);
    }
    return { path: parsed[1], negate: parsed[2] === '!=', value: parsed[3] };
  });
  return (object) => requirements.every((r) => (fieldValue(object, r.path) === r.value) !== r.negate);
}
