/**
 * The AdmissionRequest a policy receives. The reference host deserialises the incoming request into a typed
 * model and serialises it again, so a policy sees only the known fields, in a fixed order, without `null`s.
 */
import { RuntimeError, RuntimeErrorCode } from '../errors.js';
import { compareUtf8, isJsonObject, jsonTypeName, withoutUndefined } from './json-value.js';
import type { JsonObject } from './json-value.js';
import type { AdmissionRequest, GroupVersionKind, GroupVersionResource, UserInfo } from './types.js';

/** Takes the request out of a full AdmissionReview, or accepts a bare AdmissionRequest, and normalises it. */
export function extractAdmissionRequest(document: unknown): AdmissionRequest {
  if (isJsonObject(document)) {
    if (Object.hasOwn(document, 'request')) return normaliseAdmissionRequest(document.request);
    if (Object.hasOwn(document, 'uid') && Object.hasOwn(document, 'operation')) {
      return normaliseAdmissionRequest(document);
    }
  }
  throw new RuntimeError(
    RuntimeErrorCode.RequestInvalid,
    `expected an AdmissionReview (a map with a "request" field) or an AdmissionRequest (a map with "uid" and ` +
      `"operation" fields), got ${isJsonObject(document) ? 'a map with neither' : jsonTypeName(document)}`,
  );
}

/** Validates `value` as an AdmissionRequest and re-serialises it like the reference host's typed model. */
export function normaliseAdmissionRequest(value: unknown): AdmissionRequest {
  if (!isJsonObject(value)) {
    throw new RuntimeError(
      RuntimeErrorCode.RequestInvalid,
      `invalid AdmissionRequest: request must be a map (got ${jsonTypeName(value)})`,
    );
  }
  const problems: string[] = [];
  const fields = new FieldReader(value, 'request', problems);
  const request = withoutUndefined<AdmissionRequest>({
    uid: fields.requiredString('uid'),
    kind: fields.required('kind', readGroupVersionKind),
    resource: fields.required('resource', readGroupVersionResource),
    subResource: fields.optionalString('subResource'),
    requestKind: fields.optional('requestKind', readGroupVersionKind),
    requestResource: fields.optional('requestResource', readGroupVersionResource),
    requestSubResource: fields.optionalString('requestSubResource'),
    name: fields.optionalString('name'),
    namespace: fields.optionalString('namespace'),
    operation: fields.requiredString('operation'),
    userInfo: fields.required('userInfo', readUserInfo),
    object: fields.optionalAny('object'),
    oldObject: fields.optionalAny('oldObject'),
    dryRun: fields.optionalBoolean('dryRun'),
    options: fields.optionalAny('options'),
  });
  if (problems.length > 0) {
    throw new RuntimeError(
      RuntimeErrorCode.RequestInvalid,
      `invalid AdmissionRequest: ${problems.join('; ')}`,
    );
  }
  return request;
}

/**
 * The uid of a raw request (docs/kubewarden-compatibility.md#validation-request): its `uid` when that is a
 * string, else "".
 */
export function requestUid(raw: unknown): string {
  return isJsonObject(raw) && typeof raw.uid === 'string' ? raw.uid : '';
}

type NestedReader<T> = (fields: FieldReader) => T;

/**
 * Reads the fields of one JSON map, recording a problem per bad field (named by its path) instead of
 * stopping at the first, and returning a placeholder so the caller can go on.
 */
class FieldReader {
  constructor(
    private readonly source: JsonObject,
    private readonly path: string,
    private readonly problems: string[],
  ) {}

  requiredString(key: string): string {
    const value = this.source[key];
    if (typeof value === 'string') return value;
    this.problems.push(`${this.path}.${key} is required and must be a string`);
    return '';
  }

  optionalString(key: string): string | undefined {
    return this.optionalOfType(key, 'string', 'a string') as string | undefined;
  }

  optionalBoolean(key: string): boolean | undefined {
    return this.optionalOfType(key, 'boolean', 'a boolean') as boolean | undefined;
  }

  /** A `RawExtension`: any JSON, kept verbatim; `null` means absent. */
  optionalAny(key: string): unknown {
    return this.source[key] ?? undefined;
  }

  optionalStringList(key: string): string[] | undefined {
    const value = this.source[key] ?? undefined;
    if (value === undefined || isStringList(value)) return value;
    this.problems.push(`${this.path}.${key} must be a list of strings`);
    return undefined;
  }

  /** A map of string lists, with keys sorted as the reference host's `BTreeMap` serialises them. */
  optionalStringListMap(key: string): Record<string, string[]> | undefined {
    const value = this.source[key] ?? undefined;
    if (value === undefined) return undefined;
    if (isJsonObject(value) && Object.values(value).every(isStringList)) {
      const entries = Object.entries(value as Record<string, string[]>);
      return Object.fromEntries(entries.sort(([a], [b]) => compareUtf8(a, b)));
    }
    this.problems.push(`${this.path}.${key} must be a map of string lists`);
    return undefined;
  }

  required<T>(key: string, read: NestedReader<T>): T {
    const value = this.source[key];
    if (isJsonObject(value)) return read(new FieldReader(value, `${this.path}.${key}`, this.problems));
    this.problems.push(`${this.path}.${key} is required and must be a map`);
    return read(new FieldReader({}, `${this.path}.${key}`, []));
  }

  optional<T>(key: string, read: NestedReader<T>): T | undefined {
    const value = this.source[key] ?? undefined;
    if (value === undefined) return undefined;
    if (isJsonObject(value)) return read(new FieldReader(value, `${this.path}.${key}`, this.problems));
    this.problems.push(`${this.path}.${key} must be a map`);
    return undefined;
  }

  private optionalOfType(key: string, type: 'string' | 'boolean', described: string): unknown {
    const value = this.source[key] ?? undefined;
    if (value === undefined || typeof value === type) return value;
    this.problems.push(`${this.path}.${key} must be ${described}`);
    return undefined;
  }
}

function readGroupVersionKind(fields: FieldReader): GroupVersionKind {
  return {
    group: fields.requiredString('group'),
    version: fields.requiredString('version'),
    kind: fields.requiredString('kind'),
  };
}

function readGroupVersionResource(fields: FieldReader): GroupVersionResource {
  return {
    group: fields.requiredString('group'),
    version: fields.requiredString('version'),
    resource: fields.requiredString('resource'),
  };
}

function readUserInfo(fields: FieldReader): UserInfo {
  return withoutUndefined<UserInfo>({
    extra: fields.optionalStringListMap('extra'),
    groups: fields.optionalStringList('groups'),
    uid: fields.optionalString('uid'),
    username: fields.optionalString('username'),
  });
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
