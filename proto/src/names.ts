import { createHash } from 'node:crypto';
import { ProtoError, ProtoErrorCode } from './errors.js';

/** JetStream buckets. Services never spell these themselves. */
export const Bucket = {
  /** Object store of policy modules; object name = the module's sha256 (hex). */
  Modules: 'castellan-modules',
  /** KV: module URL (hashed, see {@link moduleIndexKey}) → the sha256 it last resolved to. */
  ModuleIndex: 'castellan-module-index',
} as const;

export type Bucket = (typeof Bucket)[keyof typeof Bucket];

/** Queue groups: each request on a subject goes to exactly one member of its group. */
export const QueueGroup = {
  Fetchers: 'fetchers',
} as const;

/** Subjects with no variable part. */
export const Subject = {
  /** Fetch request/reply ({@link FetchRequest} → {@link FetchReply}), queue group `fetchers`. */
  Fetch: 'castellan.fetch',
} as const;

// A subject token must not contain separators, wildcards or whitespace.
const TOKEN = /^[A-Za-z0-9_-][A-Za-z0-9_=-]*$/;

/** Checks that a value can be used as one token of a subject or key. */
export function subjectToken(value: string, what: string): string {
  if (!TOKEN.test(value)) {
    throw new ProtoError(
      ProtoErrorCode.SubjectTokenInvalid,
      `${what} "${value}" cannot be used in a NATS subject: use letters, digits, "-", "_" and "=" only`,
    );
  }
  return value;
}

/**
 * The module-index key of a module URL. URLs contain characters KV keys do not allow, so the key
 * is the URL's sha256 (hex); the entry's value holds the URL itself.
 */
export function moduleIndexKey(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}
