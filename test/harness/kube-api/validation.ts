// Custom resources checked against their CRD's openAPIV3Schema with the shared validator
// (test/deploy/openapi.ts): defaults applied, then required/type/enum/min/max/pattern checks.
// x-kubernetes-validations (CEL) are not evaluated.
import { validateValue } from '../../deploy/openapi.js';
import { invalid } from './errors.js';
import type { KubeObject, ResourceType } from './types.js';
import { isPlainObject } from './types.js';

const UNKNOWN_FIELD = ': unknown field';

/** `spec.rules[0].foo` → ['spec', 'rules', 0, 'foo']. */
function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) segments.push(Number(match[2]));
    else if (match[1] !== undefined) segments.push(match[1]);
  }
  return segments;
}

function prune(object: unknown, path: string): void {
  const segments = pathSegments(path);
  const last = segments.pop();
  let node: unknown = object;
  for (const segment of segments) {
    node =
      Array.isArray(node) || isPlainObject(node)
        ? (node as Record<string | number, unknown>)[segment]
        : undefined;
  }
  if (isPlainObject(node) && typeof last === 'string') delete node[last];
}

export interface ValidationOutcome {
  object: KubeObject;
  /** Unknown fields dropped, as the server reports them in `Warning` headers. */
  warnings: string[];
}

/**
 * Defaults and validates a custom resource. Unknown fields are pruned with a warning, as the API
 * server does for a client that sends no `fieldValidation` (client-node); `Strict` refuses them
 * (kubectl's default). Built-in kinds pass through unchecked.
 */
export function validateObject(type: ResourceType, object: KubeObject, strict: boolean): ValidationOutcome {
  if (!type.schema) return { object, warnings: [] };
  const { metadata, ...content } = object;
  const { value, errors } = validateValue(type.schema, content);
  const unknown = errors.filter((error) => error.endsWith(UNKNOWN_FIELD));
  const problems = strict ? errors : errors.filter((error) => !error.endsWith(UNKNOWN_FIELD));
  if (problems.length > 0) throw invalid(type, metadata.name ?? '', problems);
  const unknownPaths = unknown.map((error) => error.slice(0, -UNKNOWN_FIELD.length));
  // Deepest paths first, so pruning a parent never hides a child's path.
  for (const path of [...unknownPaths].reverse()) prune(value, path);
  return {
    object: { ...(value as KubeObject), metadata },
    warnings: unknownPaths.map((path) => `unknown field "${path}"`),
  };
}
