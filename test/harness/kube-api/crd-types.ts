// Resource types read from CustomResourceDefinition manifests (deploy/crds by default).
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { OpenApiSchema } from '../../deploy/openapi.js';
import type { ResourceType } from './types.js';
import { isPlainObject } from './types.js';

export const DEFAULT_CRD_DIR = fileURLToPath(new URL('../../../deploy/crds/', import.meta.url));

interface CrdVersion {
  name: string;
  served?: boolean;
  subresources?: { status?: unknown };
  schema?: { openAPIV3Schema?: OpenApiSchema };
}

interface Crd {
  kind: 'CustomResourceDefinition';
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; listKind?: string; plural: string; singular?: string; shortNames?: string[] };
    versions: CrdVersion[];
  };
}

function isCrd(value: unknown): value is Crd {
  return isPlainObject(value) && value.kind === 'CustomResourceDefinition' && isPlainObject(value.spec);
}

/** The YAML files of `dir` holding CRDs (everything but kustomization.yaml). */
export async function crdFilesIn(dir = DEFAULT_CRD_DIR): Promise<string[]> {
  const names = await readdir(dir);
  return names
    .filter((name) => /\.ya?ml$/.test(name) && !name.startsWith('kustomization'))
    .sort()
    .map((name) => join(dir, name));
}

/** One resource type per served version of every CRD in `paths`. */
export async function loadCrdTypes(paths: readonly string[]): Promise<ResourceType[]> {
  const types: ResourceType[] = [];
  for (const path of paths) {
    for (const document of parseAllDocuments(await readFile(path, 'utf8'))) {
      if (document.errors.length > 0)
        throw new Error(`${path}: ${document.errors[0]?.message ?? 'bad YAML'}`);
      const crd: unknown = document.toJS();
      if (!isCrd(crd)) continue;
      const { group, scope, names, versions } = crd.spec;
      for (const version of versions) {
        if (version.served === false) continue;
        types.push({
          group,
          version: version.name,
          kind: names.kind,
          listKind: names.listKind ?? `${names.kind}List`,
          plural: names.plural,
          singular: names.singular ?? names.kind.toLowerCase(),
          namespaced: scope === 'Namespaced',
          shortNames: names.shortNames ?? [],
          statusSubresource: version.subresources?.status !== undefined,
          custom: true,
          ...(version.schema?.openAPIV3Schema ? { schema: version.schema.openAPIV3Schema } : {}),
        });
      }
    }
  }
  return types;
}
