// System-owned metadata: what the server sets on create, carries over on update, and checks.
import { randomInt } from 'node:crypto';
import type { ManagedFieldsEntry, ObjectMeta } from './types.js';

/** RFC 3339 at second precision, as metav1.Time serialises. */
export function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// The alphabet of k8s.io/apimachinery/pkg/util/rand (no vowels, no look-alike characters).
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function generatedName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)] ?? 'x';
  return prefix + suffix;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Problems with a name as a DNS-1123 subdomain (what most kinds require). */
export function nameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length > 253)
    problems.push(`metadata.name: Invalid value: "${name}": must be no more than 253 characters`);
  if (!DNS_SUBDOMAIN.test(name)) {
    problems.push(
      `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    );
  }
  return problems;
}

/** Incoming metadata with the fields only the server may set taken from the stored object. */
export function carrySystemMetadata(stored: ObjectMeta, incoming: ObjectMeta): ObjectMeta {
  const meta: ObjectMeta = { ...incoming };
  for (const field of [
    'name',
    'namespace',
    'uid',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'generation',
    'resourceVersion',
  ] as const) {
    if (stored[field] === undefined) delete meta[field];
    else (meta as Record<string, unknown>)[field] = stored[field];
  }
  delete meta.generateName;
  if (stored.generateName !== undefined) meta.generateName = stored.generateName;
  if (incoming.managedFields === undefined && stored.managedFields !== undefined) {
    meta.managedFields = stored.managedFields;
  }
  return meta;
}

/**
 * Records `manager` in managedFields the first time it writes with this operation. Field
 * ownership (fieldsV1) is not tracked: the entry only says who wrote.
 */
export function recordManager(
  meta: ObjectMeta,
  manager: string | undefined,
  operation: ManagedFieldsEntry['operation'],
  apiVersion: string,
  subresource: string | undefined,
): void {
  if (!manager) return;
  const entries = meta.managedFields ?? [];
  const known = entries.some(
    (entry) =>
      entry.manager === manager && entry.operation === operation && entry.subresource === subresource,
  );
  if (known) return;
  meta.managedFields = [
    ...entries,
    {
      manager,
      operation,
      apiVersion,
      time: timestamp(),
      fieldsType: 'FieldsV1',
      fieldsV1: {},
      ...(subresource ? { subresource } : {}),
    },
  ];
}
