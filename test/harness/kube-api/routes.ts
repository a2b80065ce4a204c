// URL paths of the Kubernetes REST API mapped to a resource type, namespace, name, subresource.
import type { ResourceRegistry } from './registry.js';
import type { ResourceType } from './types.js';

export type Route =
  | { kind: 'version' }
  | { kind: 'health' }
  | { kind: 'core-versions' }
  | { kind: 'groups' }
  | { kind: 'group'; group: string }
  | { kind: 'resource-list'; group: string; version: string }
  | { kind: 'resource'; type: ResourceType; namespace?: string; name?: string; subresource?: 'status' };

export function routeOf(registry: ResourceRegistry, pathname: string): Route | undefined {
  const segments = pathname
    .split('/')
    .filter((segment) => segment !== '')
    .map(decodeURIComponent);
  const [root, ...rest] = segments;
  if (root === 'version' && rest.length === 0) return { kind: 'version' };
  if ((root === 'healthz' || root === 'readyz' || root === 'livez') && rest.length === 0)
    return { kind: 'health' };
  let group: string;
  let version: string | undefined;
  let path: string[];
  if (root === 'api') {
    if (rest.length === 0) return { kind: 'core-versions' };
    [group, version, path] = ['', rest[0], rest.slice(1)];
  } else if (root === 'apis') {
    if (rest.length === 0) return { kind: 'groups' };
    if (rest.length === 1) return { kind: 'group', group: rest[0] ?? '' };
    [group, version, path] = [rest[0] ?? '', rest[1], rest.slice(2)];
  } else return undefined;
  if (version === undefined) return undefined;
  if (path.length === 0) return { kind: 'resource-list', group, version };

  let namespace: string | undefined;
  // `/api/v1/namespaces/<name>/status` is the Namespace's own subresource, not a namespace prefix.
  const namespaceSubresource = group === '' && path.length === 3 && path[2] === 'status';
  if (path[0] === 'namespaces' && path.length >= 3 && !namespaceSubresource) {
    namespace = path[1];
    path = path.slice(2);
  }
  if (path.length > 3) return undefined;
  const [plural, name, subresource] = path;
  const type =
    plural === undefined ? undefined : registry.byPath(group ? `${group}/${version}` : version, plural);
  if (!type) return undefined;
  if (namespace !== undefined && !type.namespaced) return undefined;
  if (namespace === undefined && type.namespaced && name !== undefined) return undefined;
  if (subresource !== undefined && !(subresource === 'status' && type.statusSubresource)) return undefined;
  return {
    kind: 'resource',
    type,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource === 'status' ? { subresource } : {}),
  };
}
