// Lookup of resource types by URL (group, version, plural) and by object (apiVersion, kind).
import type { ResourceType } from './types.js';
import { apiVersionOf } from './types.js';

export class ResourceRegistry {
  readonly #byPath = new Map<string, ResourceType>();
  readonly #byKind = new Map<string, ResourceType>();

  constructor(readonly types: readonly ResourceType[]) {
    for (const type of types) {
      const path = `${apiVersionOf(type)}/${type.plural}`;
      if (this.#byPath.has(path)) throw new Error(`resource ${path} defined twice`);
      this.#byPath.set(path, type);
      this.#byKind.set(`${apiVersionOf(type)}/${type.kind}`, type);
    }
  }

  byPath(apiVersion: string, plural: string): ResourceType | undefined {
    return this.#byPath.get(`${apiVersion}/${plural}`);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.#byKind.get(`${apiVersion}/${kind}`);
  }

  /** Group versions in registration order, the core group (`v1`) first. */
  groupVersions(): { group: string; version: string }[] {
    const seen = new Map<string, { group: string; version: string }>();
    for (const { group, version } of this.types)
      seen.set(apiVersionOf({ group, version }), { group, version });
    return [...seen.values()];
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.types.filter((type) => type.group === group && type.version === version);
  }
}

/** Stable identity of a resource type, used as a key prefix in the store. */
export function typeKey(type: ResourceType): string {
  return `${apiVersionOf(type)}/${type.plural}`;
}
