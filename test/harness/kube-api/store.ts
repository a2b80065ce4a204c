// The objects of the fake cluster and every write to them, with API-server semantics: one global
// resourceVersion, optimistic concurrency, generation, status subresource, finalizers, owner GC.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { applyBuiltinDefaults } from './builtin-defaults.js';
import { checkBuiltinDecoding, validateBuiltinObject } from './builtin-validation.js';
import { ChangeLog } from './change-log.js';
import type { ChangeType } from './change-log.js';
import {
  KubeApiError,
  STALE_OBJECT,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  notFound,
} from './errors.js';
import { carrySystemMetadata, generatedName, nameProblems, recordManager, timestamp } from './metadata.js';
import { applyJsonPatch, applyMergePatch, parseJsonPatch } from './patch.js';
import type { ResourceRegistry } from './registry.js';
import { typeKey } from './registry.js';
import type { ObjectPredicate } from './selectors.js';
import type { KubeObject, ResourceType, StoredObject } from './types.js';
import { apiVersionOf, isPlainObject } from './types.js';
import { validateObject } from './validation.js';

export interface WriteOptions {
  fieldManager?: string;
  /** `fieldValidation=Strict`: unknown fields of custom resources are refused, not pruned. */
  strict?: boolean;
  subresource?: 'status';
}

export interface WriteResult {
  object: StoredObject;
  warnings: string[];
  /** True when an apply patch created the object (HTTP 201). */
  created?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

const NAMESPACE_KEY = 'v1/namespaces';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`invalid JSON: ${(error as Error).message}`);
  }
}

export class ObjectStore {
  #resourceVersion: number;
  readonly #objects = new Map<string, StoredObject>();
  readonly #keysByUid = new Map<string, string>();
  readonly changes: ChangeLog;

  constructor(
    readonly registry: ResourceRegistry,
    options: { historyLimit: number; startResourceVersion?: number },
  ) {
    this.#resourceVersion = options.startResourceVersion ?? 100;
    this.changes = new ChangeLog(options.historyLimit, this.#resourceVersion);
  }

  /** The latest resourceVersion, as a list or bookmark reports it. */
  get resourceVersion(): string {
    return String(this.#resourceVersion);
  }

  #key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${typeKey(type)}/${type.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  find(type: ResourceType, namespace: string | undefined, name: string): StoredObject | undefined {
    const object = this.#objects.get(this.#key(type, namespace, name));
    return object && structuredClone(object);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): StoredObject {
    const object = this.find(type, namespace, name);
    if (!object) throw notFound(type, name);
    return object;
  }

  /** Objects of `type` (in `namespace` if given), in etcd key order: namespace, then name. */
  list(
    type: ResourceType,
    namespace: string | undefined,
    predicate: ObjectPredicate = () => true,
  ): StoredObject[] {
    const prefix = `${typeKey(type)}/${namespace !== undefined && type.namespaced ? `${namespace}/` : ''}`;
    return [...this.#objects.entries()]
      .filter(([key, object]) => key.startsWith(prefix) && predicate(object))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => structuredClone(object));
  }

  #bodyFor(type: ResourceType, body: unknown): KubeObject {
    if (!isPlainObject(body)) throw badRequest('the request body must be a JSON object');
    const object = structuredClone(body) as Partial<KubeObject>;
    const apiVersion = apiVersionOf(type);
    if (object.apiVersion !== undefined && object.apiVersion !== apiVersion) {
      throw badRequest(
        `the API version in the data (${object.apiVersion}) does not match the expected API version (${apiVersion})`,
      );
    }
    if (object.kind !== undefined && object.kind !== type.kind) {
      throw badRequest(
        `the kind in the data (${object.kind}) does not match the expected kind (${type.kind})`,
      );
    }
    if (object.metadata !== undefined && !isPlainObject(object.metadata))
      throw badRequest('metadata must be an object');
    return { ...object, apiVersion, kind: type.kind, metadata: object.metadata ?? {} };
  }

  #requireNamespace(namespace: string): void {
    const stored = this.#objects.get(`${NAMESPACE_KEY}//${namespace}`);
    if (!stored) {
      throw new KubeApiError(404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        group: '',
        kind: 'namespaces',
      });
    }
  }

  #commit(
    type: ResourceType,
    change: ChangeType,
    object: StoredObject,
    previous?: StoredObject,
  ): StoredObject {
    this.#resourceVersion += 1;
    object.metadata.resourceVersion = String(this.#resourceVersion);
    const key = this.#key(type, object.metadata.namespace, object.metadata.name);
    if (change === 'DELETED') {
      this.#objects.delete(key);
      this.#keysByUid.delete(object.metadata.uid);
    } else {
      this.#objects.set(key, object);
      this.#keysByUid.set(object.metadata.uid, key);
    }
    this.changes.record({
      resourceVersion: this.#resourceVersion,
      typeKey: typeKey(type),
      type: change,
      object: structuredClone(object),
      ...(previous ? { previous: structuredClone(previous) } : {}),
    });
    return structuredClone(object);
  }

  create(
    type: ResourceType,
    namespace: string | undefined,
    body: unknown,
    options: WriteOptions = {},
  ): WriteResult {
    return this.#create(type, namespace, this.#bodyFor(type, body), options, 'Update');
  }

  #create(
    type: ResourceType,
    namespace: string | undefined,
    object: KubeObject,
    options: WriteOptions,
    operation: 'Apply' | 'Update',
  ): WriteResult {
    const meta = { ...object.metadata };
    if (type.namespaced) {
      if (namespace === undefined)
        throw badRequest(`${type.kind} is namespaced: create it under /namespaces/<ns>`);
      if (meta.namespace && meta.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = namespace;
    } else delete meta.namespace;
    if (!meta.name) {
      if (!meta.generateName) {
        throw invalid(type, '', ['metadata.name: Required value: name or generateName is required']);
      }
      meta.name = generatedName(meta.generateName);
    }
    const name = meta.name;
    const problems = nameProblems(name);
    if (problems.length > 0) throw invalid(type, name, problems);
    if (meta.resourceVersion) {
      throw new KubeApiError(
        500,
        'InternalError',
        'resourceVersion should not be set on objects to be created',
      );
    }
    if (type.namespaced && namespace !== undefined) this.#requireNamespace(namespace);
    if (this.#objects.has(this.#key(type, namespace, name))) throw alreadyExists(type, name);

    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.managedFields;
    recordManager(meta, options.fieldManager, operation, apiVersionOf(type), undefined);
    const candidate: KubeObject = { ...object, metadata: meta };
    if (type.statusSubresource) delete candidate.status;
    checkBuiltinDecoding(type, candidate);
    applyBuiltinDefaults(type, candidate);
    validateBuiltinObject(type, candidate);
    const validated = validateObject(type, candidate, options.strict ?? false);
    const stored = this.#commit(type, 'ADDED', validated.object as StoredObject);
    return { object: stored, warnings: validated.warnings, created: true };
  }

  /** PUT: replace the object (or only its status), refusing a stale metadata.resourceVersion. */
  replace(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    options: WriteOptions = {},
  ): WriteResult {
    const stored = this.get(type, namespace, name);
    const incoming = this.#bodyFor(type, body);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    if (type.namespaced && incoming.metadata.namespace && incoming.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const resourceVersion = incoming.metadata.resourceVersion;
    if (!resourceVersion) {
      if (type.custom) {
        throw invalid(type, name, [
          'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
        ]);
      }
    } else if (resourceVersion !== stored.metadata.resourceVersion) {
      throw conflict(type, name, STALE_OBJECT);
    }
    return this.#update(type, stored, incoming, options, 'Update');
  }

  /** PATCH with any of PATCH_TYPES; an apply patch creates a missing object. */
  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: string,
    options: WriteOptions = {},
  ): WriteResult {
    const stored = this.find(type, namespace, name);
    let patched: unknown;
    switch (contentType) {
      case PATCH_TYPES.json: {
        const operations = parseJsonPatch(parseJson(body));
        if (!stored) throw notFound(type, name);
        patched = applyJsonPatch(stored, operations);
        break;
      }
      case PATCH_TYPES.strategic:
      case PATCH_TYPES.merge: {
        if (contentType === PATCH_TYPES.strategic && type.custom) {
          throw new KubeApiError(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.json}, ${PATCH_TYPES.merge}, ${PATCH_TYPES.apply}`,
          );
        }
        const patch = parseJson(body);
        if (!isPlainObject(patch)) throw badRequest('a merge patch must be a JSON object');
        if (!stored) throw notFound(type, name);
        patched = applyMergePatch(stored, patch);
        break;
      }
      case PATCH_TYPES.apply:
        return this.#apply(type, namespace, name, stored, body, options);
      default:
        throw new KubeApiError(
          415,
          'UnsupportedMediaType',
          `the server does not support patch type ${contentType}`,
        );
    }
    const incoming = this.#bodyFor(type, patched);
    const precondition = incoming.metadata.resourceVersion;
    if (precondition && precondition !== stored.metadata.resourceVersion)
      throw conflict(type, name, STALE_OBJECT);
    return this.#update(type, stored, incoming, options, 'Update');
  }

  /**
   * Server-side apply, simplified: the applied configuration is merged into the object like a
   * merge patch (maps merged, lists replaced) and the manager is recorded. Field ownership,
   * conflicts and removal of fields a manager stopped applying are not modelled.
   */
  #apply(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    stored: StoredObject | undefined,
    body: string,
    options: WriteOptions,
  ): WriteResult {
    if (!options.fieldManager) {
      throw invalid(type, name, ['fieldManager: Required value: is required for apply patch']);
    }
    let applied: unknown;
    try {
      applied = parseYaml(body);
    } catch (error) {
      throw badRequest(`invalid YAML: ${(error as Error).message}`);
    }
    if (!isPlainObject(applied) || applied.apiVersion === undefined || applied.kind === undefined) {
      throw badRequest('an apply patch must be an object with apiVersion and kind');
    }
    const configuration = this.#bodyFor(type, applied);
    if (configuration.metadata.name !== undefined && configuration.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${configuration.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    if (!stored) {
      if (options.subresource) throw notFound(type, name);
      return this.#create(
        type,
        namespace,
        { ...configuration, metadata: { ...configuration.metadata, name } },
        options,
        'Apply',
      );
    }
    const incoming = this.#bodyFor(type, applyMergePatch(stored, configuration));
    const precondition = configuration.metadata.resourceVersion;
    if (precondition && precondition !== stored.metadata.resourceVersion)
      throw conflict(type, name, STALE_OBJECT);
    return this.#update(type, stored, incoming, options, 'Apply');
  }

  #update(
    type: ResourceType,
    stored: StoredObject,
    incoming: KubeObject,
    options: WriteOptions,
    operation: 'Apply' | 'Update',
  ): WriteResult {
    const name = stored.metadata.name;
    let candidate: KubeObject;
    if (options.subresource === 'status') {
      // Only .status changes through /status; everything else stays as stored.
      candidate = structuredClone(stored);
      if (incoming.status === undefined) delete candidate.status;
      else candidate.status = incoming.status;
      candidate.metadata.managedFields = stored.metadata.managedFields;
    } else {
      candidate = { ...incoming, metadata: carrySystemMetadata(stored.metadata, incoming.metadata) };
      if (type.statusSubresource) {
        if (stored.status === undefined) delete candidate.status;
        else candidate.status = stored.status;
      }
    }
    const meta = candidate.metadata;
    if (stored.metadata.deletionTimestamp) {
      const added = (meta.finalizers ?? []).filter((f) => !(stored.metadata.finalizers ?? []).includes(f));
      if (added.length > 0) {
        throw invalid(type, name, [
          'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted',
        ]);
      }
    }
    if (meta.managedFields === undefined) delete meta.managedFields;
    recordManager(meta, options.fieldManager, operation, apiVersionOf(type), options.subresource);
    checkBuiltinDecoding(type, candidate);
    applyBuiltinDefaults(type, candidate, stored);
    validateBuiltinObject(type, candidate, stored);
    const validated = validateObject(type, candidate, options.strict ?? false);
    const next = validated.object as StoredObject;
    const specChanged = !isDeepStrictEqual(contentOf(type, next), contentOf(type, stored));
    next.metadata.generation = (stored.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    if (isDeepStrictEqual(next, stored)) return { object: stored, warnings: validated.warnings };
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      return { object: this.#remove(type, next), warnings: validated.warnings };
    }
    return { object: this.#commit(type, 'MODIFIED', next, stored), warnings: validated.warnings };
  }

  /**
   * DELETE: with finalizers the object only gets a deletionTimestamp (once); without, it goes,
   * and its dependents are garbage-collected (Orphan instead strips their ownerReferences).
   */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): StoredObject {
    const stored = this.get(type, namespace, name);
    const { uid, resourceVersion } = options.preconditions ?? {};
    if (uid !== undefined && uid !== stored.metadata.uid) {
      throw conflict(
        type,
        name,
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${stored.metadata.uid}`,
      );
    }
    if (resourceVersion !== undefined && resourceVersion !== stored.metadata.resourceVersion) {
      throw conflict(
        type,
        name,
        `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${stored.metadata.resourceVersion}`,
      );
    }
    if (options.propagationPolicy === 'Orphan') this.#orphanDependents(stored.metadata.uid);
    if ((stored.metadata.finalizers ?? []).length > 0) {
      if (stored.metadata.deletionTimestamp) return stored;
      const marked = structuredClone(stored);
      marked.metadata.deletionTimestamp = timestamp();
      marked.metadata.deletionGracePeriodSeconds = 0;
      return this.#commit(type, 'MODIFIED', marked, stored);
    }
    return this.#remove(type, stored);
  }

  #remove(type: ResourceType, object: StoredObject): StoredObject {
    const removed = this.#commit(type, 'DELETED', object);
    if (typeKey(type) === NAMESPACE_KEY) this.#deleteNamespaceContents(object.metadata.name);
    this.#collectDependents(object.metadata.uid);
    return removed;
  }

  #deleteNamespaceContents(namespace: string): void {
    for (const type of this.registry.types) {
      if (!type.namespaced) continue;
      for (const object of this.list(type, namespace)) {
        if (this.find(type, namespace, object.metadata.name))
          this.delete(type, namespace, object.metadata.name);
      }
    }
  }

  /** Stored objects that name `uid` among their owners, with their types. */
  #dependentsOf(uid: string): [ResourceType, StoredObject][] {
    const dependents: [ResourceType, StoredObject][] = [];
    for (const object of this.#objects.values()) {
      if (!object.metadata.ownerReferences?.some((ref) => ref.uid === uid)) continue;
      const type = this.registry.byKind(object.apiVersion, object.kind);
      if (type) dependents.push([type, structuredClone(object)]);
    }
    return dependents;
  }

  #withoutOwner(type: ResourceType, object: StoredObject, uid: string): void {
    const next = structuredClone(object);
    const remaining = (next.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== uid);
    if (remaining.length > 0) next.metadata.ownerReferences = remaining;
    else delete next.metadata.ownerReferences;
    this.#commit(type, 'MODIFIED', next, object);
  }

  #orphanDependents(uid: string): void {
    for (const [type, dependent] of this.#dependentsOf(uid)) this.#withoutOwner(type, dependent, uid);
  }

  /** Background propagation, done at once: a dependent with no remaining owner is deleted. */
  #collectDependents(uid: string): void {
    for (const [type, dependent] of this.#dependentsOf(uid)) {
      const current = this.find(type, dependent.metadata.namespace, dependent.metadata.name);
      if (!current) continue;
      const otherOwnerAlive = (current.metadata.ownerReferences ?? []).some(
        (ref) => ref.uid !== uid && this.#keysByUid.has(ref.uid),
      );
      if (otherOwnerAlive) this.#withoutOwner(type, current, uid);
      else this.delete(type, current.metadata.namespace, current.metadata.name);
    }
  }

  /** Creates an object from its apiVersion/kind, for tests that seed the cluster. */
  seed(object: KubeObject): StoredObject {
    const type = this.registry.byKind(object.apiVersion, object.kind);
    if (!type) throw new Error(`the fake API server does not serve ${object.apiVersion} ${object.kind}`);
    return this.create(type, object.metadata.namespace, object).object;
  }

  /** Forces 410 Expired on every watch from a resourceVersion before now (and on open watches). */
  expireWatchHistory(options: { closeWatches?: boolean } = {}): void {
    this.changes.compact(this.#resourceVersion, options.closeWatches ?? true);
  }
}

/** What counts as "spec" for generation: everything but metadata (and status, if a subresource). */
function contentOf(type: ResourceType, object: KubeObject): Record<string, unknown> {
  const content: Record<string, unknown> = { ...object };
  delete content.metadata;
  if (type.statusSubresource) delete content.status;
  return content;
}
