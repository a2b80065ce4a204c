// Legacy (unaggregated) discovery documents: what client-node and kubectl read to map kinds to
// resources and to learn whether a resource is namespaced.
import type { ResourceRegistry } from './registry.js';
import type { ResourceType } from './types.js';
import { apiVersionOf } from './types.js';

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-castellan-fake',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
} as const;

function apiResources(types: ResourceType[]): Record<string, unknown>[] {
  return types.flatMap((type) => {
    const main = {
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: VERBS,
      ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {}),
      ...(type.custom ? { categories: ['castellan'] } : {}),
    };
    if (!type.statusSubresource) return [main];
    const status = {
      name: `${type.plural}/status`,
      singularName: '',
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: STATUS_VERBS,
    };
    return [main, status];
  });
}

/** `/api/v1` or `/apis/<group>/<version>`; undefined when nothing is served there. */
export function resourceList(
  registry: ResourceRegistry,
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources: apiResources(types),
  };
}

export function coreVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(registry: ResourceRegistry, name: string): Record<string, unknown> | undefined {
  const versions = registry
    .groupVersions()
    .filter((gv) => gv.group === name)
    .map((gv) => ({ groupVersion: `${name}/${gv.version}`, version: gv.version }));
  const preferred = versions[0];
  if (!preferred) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions, preferredVersion: preferred };
}

/** `/apis/<group>`. */
export function groupDocument(registry: ResourceRegistry, name: string): Record<string, unknown> | undefined {
  return name === '' ? undefined : apiGroup(registry, name);
}

/** `/apis`: every named group. */
export function groupList(registry: ResourceRegistry): Record<string, unknown> {
  const names = [...new Set(registry.groupVersions().map((gv) => gv.group))].filter((name) => name !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: names.map((name) => apiGroup(registry, name)) };
}
