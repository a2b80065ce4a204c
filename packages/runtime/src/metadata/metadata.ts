/**
 * Policy metadata: what a policy declares about itself in its `io.kubewarden.metadata` custom section or its
 * `metadata.yml`, validated and defaulted as Kubewarden does
 * (docs/kubewarden-compatibility.md#metadata-fields).
 */
import { parse as parseSemver } from 'semver';
import { RuntimeError, RuntimeErrorCode } from '../errors.js';
import { compareUtf8, isJsonObject, jsonTypeName, withoutUndefined } from '../admission/json-value.js';
import { readRules } from './webhook-rules.js';
import type { PolicyRule } from './webhook-rules.js';

/** The Kubewarden release whose contracts Castellan implements; policies needing a newer one are refused. */
export const KUBEWARDEN_COMPATIBLE_VERSION = '1.36.0';

export const PROTOCOL_VERSIONS = ['v1', 'Unknown'] as const;
export type ProtocolVersion = (typeof PROTOCOL_VERSIONS)[number];

export const EXECUTION_MODES = ['kubewarden-wapc', 'opa', 'gatekeeper', 'wasi'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

export const POLICY_TYPES = ['kubernetes', 'raw'] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

export interface ContextAwareResource {
  apiVersion: string;
  kind: string;
}

export interface PolicyMetadata {
  /** Set by `annotate`; absent in a `metadata.yml` that has not been through it. */
  protocolVersion?: ProtocolVersion;
  rules: PolicyRule[];
  annotations?: Record<string, string>;
  mutating: boolean;
  backgroundAudit: boolean;
  executionMode: ExecutionMode;
  policyType: PolicyType;
  /** A set: no duplicates, ordered by apiVersion then kind. */
  contextAwareResources: ContextAwareResource[];
  /** Informational: the capabilities the policy says it uses; grants come from the policy's configuration. */
  hostCapabilities?: string[];
  minimumKubewardenVersion?: string;
}

/** Validates and defaults metadata; every problem is reported, each prefixed with its field path. */
export function parseMetadata(value: unknown): PolicyMetadata {
  if (!isJsonObject(value)) {
    throw new RuntimeError(
      RuntimeErrorCode.MetadataInvalid,
      `policy metadata must be a map (got ${jsonTypeName(value)})`,
    );
  }
  const problems: string[] = [];
  const metadata = withoutUndefined<PolicyMetadata>({
    protocolVersion: readOptionalVariant(value, 'protocolVersion', PROTOCOL_VERSIONS, problems),
    rules: readRules(value.rules, problems),
    annotations: readAnnotations(value.annotations, problems),
    mutating: readBoolean(value, 'mutating', undefined, problems),
    backgroundAudit: readBoolean(value, 'backgroundAudit', true, problems),
    executionMode: readVariant(value, 'executionMode', EXECUTION_MODES, 'kubewarden-wapc', problems),
    policyType: readVariant(value, 'policyType', POLICY_TYPES, 'kubernetes', problems),
    contextAwareResources: readContextAwareResources(value.contextAwareResources, problems),
    hostCapabilities: readHostCapabilities(value.hostCapabilities, problems),
    minimumKubewardenVersion: readMinimumKubewardenVersion(value.minimumKubewardenVersion, problems),
  });
  if (metadata.executionMode === 'kubewarden-wapc' && metadata.protocolVersion === 'Unknown') {
    problems.push('protocolVersion: "Unknown" is not allowed when executionMode is kubewarden-wapc');
  }
  if (problems.length > 0) {
    throw new RuntimeError(
      RuntimeErrorCode.MetadataInvalid,
      `policy metadata is invalid: ${problems.join('; ')}`,
    );
  }
  return metadata;
}

/**
 * The compact JSON `annotate` embeds (docs/kubewarden-compatibility.md#annotating), keys in the reference
 * order, maps and sets sorted.
 */
export function serialiseMetadata(metadata: PolicyMetadata): string {
  return JSON.stringify(
    withoutUndefined({
      // An un-annotated value serialises as null, as the reference `Option` field does.
      protocolVersion: metadata.protocolVersion ?? null,
      rules: metadata.rules.map(({ apiGroups, apiVersions, resources, operations }) => ({
        apiGroups,
        apiVersions,
        resources,
        operations,
      })),
      annotations: metadata.annotations && sortedByKey(metadata.annotations),
      mutating: metadata.mutating,
      backgroundAudit: metadata.backgroundAudit,
      executionMode: metadata.executionMode,
      policyType: metadata.policyType,
      contextAwareResources: contextAwareResourceSet(metadata.contextAwareResources),
      hostCapabilities: metadata.hostCapabilities,
      minimumKubewardenVersion: metadata.minimumKubewardenVersion,
    }),
  );
}

/**
 * Refuses a policy that needs a newer Kubewarden than `engineVersion`. Only major and minor count: the
 * reference compares `major.minor.0` of both, so patch releases and pre-releases never block a policy.
 */
export function checkMinimumVersion(
  metadata: Pick<PolicyMetadata, 'minimumKubewardenVersion'>,
  engineVersion: string = KUBEWARDEN_COMPATIBLE_VERSION,
): void {
  if (metadata.minimumKubewardenVersion === undefined) return;
  const required = parseSemver(metadata.minimumKubewardenVersion);
  const engine = parseSemver(engineVersion);
  if (required === null || engine === null) {
    throw new RuntimeError(
      RuntimeErrorCode.MetadataInvalid,
      `cannot compare Kubewarden versions "${metadata.minimumKubewardenVersion}" and "${engineVersion}"`,
    );
  }
  if (engine.major > required.major || (engine.major === required.major && engine.minor >= required.minor))
    return;
  throw new RuntimeError(
    RuntimeErrorCode.MinimumKubewardenVersionUnmet,
    `the policy requires Kubewarden ${required.major}.${required.minor}.0 or newer, but Castellan implements ` +
      `Kubewarden ${engine.major}.${engine.minor}.0: use a release of the policy made for this Kubewarden version`,
  );
}

function readBoolean(
  source: Record<string, unknown>,
  key: string,
  fallback: boolean | undefined,
  problems: string[],
): boolean {
  const value = source[key];
  if (typeof value === 'boolean') return value;
  if (value === undefined && fallback !== undefined) return fallback;
  problems.push(
    value === undefined
      ? `${key}: is required and must be a boolean`
      : `${key}: must be a boolean (got ${jsonTypeName(value)})`,
  );
  return fallback ?? false;
}

function readVariant<T extends string>(
  source: Record<string, unknown>,
  key: string,
  variants: readonly T[],
  fallback: T,
  problems: string[],
): T {
  const value = source[key];
  if (value === undefined) return fallback;
  return isVariant(value, key, variants, problems) ? value : fallback;
}

function readOptionalVariant<T extends string>(
  source: Record<string, unknown>,
  key: string,
  variants: readonly T[],
  problems: string[],
): T | undefined {
  const value = source[key] ?? undefined;
  if (value === undefined) return undefined;
  return isVariant(value, key, variants, problems) ? value : undefined;
}

function isVariant<T extends string>(
  value: unknown,
  key: string,
  variants: readonly T[],
  problems: string[],
): value is T {
  if ((variants as readonly unknown[]).includes(value)) return true;
  problems.push(
    typeof value === 'string'
      ? `${key}: ${JSON.stringify(value)} is not one of ${variants.join(', ')}`
      : `${key}: must be one of ${variants.join(', ')} (got ${jsonTypeName(value)})`,
  );
  return false;
}

function readAnnotations(value: unknown, problems: string[]): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) {
    problems.push(`annotations: must be a map of strings (got ${jsonTypeName(value)})`);
    return undefined;
  }
  for (const [key, annotation] of Object.entries(value)) {
    if (typeof annotation !== 'string') {
      problems.push(
        `annotations[${JSON.stringify(key)}]: must be a string (got ${jsonTypeName(annotation)})`,
      );
    }
  }
  return value as Record<string, string>;
}

function readContextAwareResources(value: unknown, problems: string[]): ContextAwareResource[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push(`contextAwareResources: must be a list (got ${jsonTypeName(value)})`);
    return [];
  }
  const resources = value.flatMap((item: unknown, index) => {
    const path = `contextAwareResources[${index}]`;
    if (!isJsonObject(item)) {
      problems.push(`${path}: must be a map (got ${jsonTypeName(item)})`);
      return [];
    }
    const apiVersion = readNonEmptyString(item, 'apiVersion', path, problems);
    const kind = readNonEmptyString(item, 'kind', path, problems);
    return apiVersion === undefined || kind === undefined ? [] : [{ apiVersion, kind }];
  });
  return contextAwareResourceSet(resources);
}

function readNonEmptyString(
  source: Record<string, unknown>,
  key: string,
  path: string,
  problems: string[],
): string | undefined {
  const value = source[key];
  if (typeof value === 'string' && value !== '') return value;
  problems.push(`${path}.${key}: is required and must be a non-empty string`);
  return undefined;
}

function readHostCapabilities(value: unknown, problems: string[]): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    problems.push(`hostCapabilities: must be a list of strings (got ${jsonTypeName(value)})`);
    return undefined;
  }
  return value.filter((item: unknown, index): item is string => {
    if (typeof item === 'string') return true;
    problems.push(`hostCapabilities[${index}]: must be a string (got ${jsonTypeName(item)})`);
    return false;
  });
}

function readMinimumKubewardenVersion(value: unknown, problems: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && isStrictSemver(value)) return value;
  problems.push(
    typeof value === 'string'
      ? `minimumKubewardenVersion: ${JSON.stringify(value)} is not a semantic version (MAJOR.MINOR.PATCH, e.g. "1.36.0")`
      : `minimumKubewardenVersion: must be a semantic version string (got ${jsonTypeName(value)})`,
  );
  return undefined;
}

/** Rust's `semver::Version` parsing: node-semver would also take a leading `v`, `=` or surrounding spaces. */
function isStrictSemver(text: string): boolean {
  const parsed = parseSemver(text);
  if (parsed === null) return false;
  const build = parsed.build.length > 0 ? `+${parsed.build.join('.')}` : '';
  return `${parsed.version}${build}` === text;
}

/** Set semantics of the reference `BTreeSet`: duplicates dropped, ordered by apiVersion then kind. */
function contextAwareResourceSet(resources: readonly ContextAwareResource[]): ContextAwareResource[] {
  const unique = new Map(
    resources.map(({ apiVersion, kind }) => [JSON.stringify([apiVersion, kind]), { apiVersion, kind }]),
  );
  return [...unique.values()].sort(
    (a, b) => compareUtf8(a.apiVersion, b.apiVersion) || compareUtf8(a.kind, b.kind),
  );
}

function sortedByKey(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compareUtf8(a, b)));
}
