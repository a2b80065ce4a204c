import { sha256Hex } from './digest.js';
import { ProtoError, ProtoErrorCode } from './errors.js';

/** JetStream buckets. Services never spell these themselves. */
export const Bucket = {
  /** Object store of policy modules; object name = the module's sha256 (hex). */
  Modules: 'castellan-modules',
  /** KV: module URL (hashed, see {@link moduleIndexKey}) → the sha256 it last resolved to. */
  ModuleIndex: 'castellan-module-index',
  /** KV: `<pool>.<policyId>` → {@link PolicyConfig}. */
  Policies: 'castellan-policies',
  /** KV: `<pool>.<evaluatorId>` → {@link EvaluatorStatus}. */
  Evaluators: 'castellan-evaluators',
} as const;

export type Bucket = (typeof Bucket)[keyof typeof Bucket];

/** Queue groups: each request on a subject goes to exactly one member of its group. */
export const QueueGroup = {
  Fetchers: 'fetchers',
} as const;

/** The queue group of an evaluator pool: one replica of the pool answers each request. */
export function poolQueueGroup(pool: string): string {
  return subjectToken(pool, 'pool');
}

/**
 * Where evaluations of one revision of one policy are sent. The revision is part of the subject
 * so a request only ever reaches an evaluator that has loaded exactly that revision.
 */
export function evaluationSubject(pool: string, policyId: string, revision: number): string {
  return `castellan.eval.${subjectToken(pool, 'pool')}.${subjectToken(policyId, 'policy id')}.${revisionToken(revision)}`;
}

/** Every evaluation subject of one pool: what its evaluators subscribe to. */
export function poolEvaluationSubjects(pool: string): string {
  return `castellan.eval.${subjectToken(pool, 'pool')}.>`;
}

/** Every evaluation subject of every pool: where gateways send. */
export const EVALUATION_SUBJECTS = 'castellan.eval.*.*.*';

/** Key of a policy in `Bucket.Policies`. */
export function policyKey(pool: string, policyId: string): string {
  return `${subjectToken(pool, 'pool')}.${subjectToken(policyId, 'policy id')}`;
}

/** Key filter matching every key of one pool: its policies in `Bucket.Policies`, its evaluators in `Bucket.Evaluators`. */
export function poolKeyFilter(pool: string): string {
  return `${subjectToken(pool, 'pool')}.>`;
}

/** Key of an evaluator's status in `Bucket.Evaluators`. */
export function evaluatorKey(pool: string, evaluatorId: string): string {
  return `${subjectToken(pool, 'pool')}.${subjectToken(evaluatorId, 'evaluator id')}`;
}

function revisionToken(revision: number): string {
  if (!Number.isSafeInteger(revision) || revision < 1) {
    throw new ProtoError(
      ProtoErrorCode.SubjectTokenInvalid,
      `revision ${revision} is not a positive integer`,
    );
  }
  return String(revision);
}

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
  return sha256Hex(url);
}
