/**
 * Host capabilities (docs/kubewarden-compatibility.md#capability-allow-lists): the operations a policy may
 * call on the host, addressed as `<namespace>/<operation>` paths, and the per-policy allow-list that gates
 * them.
 */
import { RuntimeError, RuntimeErrorCode } from '../errors.js';

/** A node of the capability tree; `null` marks a leaf, an operation a policy can call. */
export type CapabilityTree = { readonly [segment: string]: CapabilityTree | null };

/** Every gated capability. `tracing` (logging) is not in it: it is always available. */
export const CAPABILITY_TREE: CapabilityTree = {
  oci: {
    v1: { verify: null, manifest_digest: null, oci_manifest: null, oci_manifest_config: null },
    v2: { verify: null },
  },
  net: { v1: { dns_lookup_host: null } },
  crypto: { v1: { is_certificate_trusted: null } },
  kubernetes: {
    list_resources_by_namespace: null,
    list_resources_all: null,
    get_resource: null,
    can_i: null,
  },
};

export const KUBEWARDEN_BINDING = 'kubewarden';

/** The namespace that is never gated. */
export const TRACING_NAMESPACE = 'tracing';

export const KNOWN_CAPABILITY_PATHS: readonly string[] = leafPaths(CAPABILITY_TREE, '');

/** The capabilities one policy has been granted. */
export interface HostCapabilityGrants {
  /** The patterns as configured, for logs and status. */
  readonly patterns: readonly string[];
  isGranted(path: string): boolean;
}

export function capabilityPath(namespace: string, operation: string): string {
  return `${namespace}/${operation}`;
}

/**
 * Validates an allow-list against the capability tree. `[]` denies everything; `*` grants everything, and,
 * as in the reference host, the patterns after it are not looked at.
 */
export function parseHostCapabilityGrants(patterns: readonly string[]): HostCapabilityGrants {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const problems: string[] = [];
  let grantsAll = false;
  for (const pattern of patterns) {
    const trimmed = pattern.trim();
    if (trimmed === '*') {
      grantsAll = true;
      break;
    }
    const problem = patternProblem(trimmed);
    if (problem !== undefined) problems.push(`host capability pattern ${JSON.stringify(pattern)} ${problem}`);
    else if (trimmed.endsWith('/*')) prefixes.push(trimmed.slice(0, -1));
    else exact.add(trimmed);
  }
  if (problems.length > 0) {
    throw new RuntimeError(RuntimeErrorCode.HostCapabilityPatternInvalid, problems.join('; '));
  }
  return {
    patterns: [...patterns],
    isGranted: (path) =>
      path.startsWith(`${TRACING_NAMESPACE}/`) ||
      grantsAll ||
      exact.has(path) ||
      prefixes.some((prefix) => path.startsWith(prefix)),
  };
}

export function notGrantedMessage(path: string): string {
  return `Policy has not been granted access to the '${path}' host capability. The violation has been reported.`;
}

export function unknownBindingMessage(binding: string): string {
  return `unknown binding: ${binding}`;
}

export function unknownNamespaceMessage(namespace: string): string {
  return `unknown namespace: ${namespace}`;
}

export function unknownOperationMessage(operation: string): string {
  return `unknown operation: ${operation}`;
}

/** Why a (trimmed) pattern is invalid, or `undefined` when it is valid. */
function patternProblem(pattern: string): string | undefined {
  if (pattern === '') return 'is empty';
  const wildcard = pattern.indexOf('*');
  if (wildcard !== -1 && (wildcard !== pattern.length - 1 || !pattern.slice(0, wildcard).endsWith('/'))) {
    return 'is invalid: \'*\' can only be a whole last segment, as in "oci/*"';
  }
  return treeProblem(pattern.split('/'));
}

/** Walks the tree: every segment must exist, and the path must end at a leaf or at a wildcard. */
function treeProblem(segments: readonly string[]): string | undefined {
  let node: CapabilityTree = CAPABILITY_TREE;
  for (const [index, segment] of segments.entries()) {
    if (segment === '*') return undefined;
    const child = Object.hasOwn(node, segment) ? node[segment] : undefined;
    const walked = segments.slice(0, index + 1).join('/');
    if (child === undefined) {
      const parent = index === 0 ? 'at the top level' : `under "${segments.slice(0, index).join('/')}"`;
      return `is invalid: unknown segment "${segment}" ${parent} (expected one of: ${Object.keys(node).sort().join(', ')})`;
    }
    if (child === null) {
      if (index === segments.length - 1) return undefined;
      return `is invalid: "${walked}" is a single capability and has no sub-capabilities`;
    }
    if (index === segments.length - 1) {
      return `is invalid: "${walked}" is a group of capabilities, not one; grant them all with "${walked}/*"`;
    }
    node = child;
  }
  return undefined;
}

function leafPaths(tree: CapabilityTree, prefix: string): string[] {
  return Object.entries(tree).flatMap(([segment, child]) =>
    child === null ? [`${prefix}${segment}`] : leafPaths(child, `${prefix}${segment}/`),
  );
}
