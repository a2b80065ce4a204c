import {
  Bucket,
  EVALUATION_SUBJECTS,
  QueueGroup,
  Subject,
  inboxPrefix,
  poolEvaluationSubjects,
  poolKeyFilter,
  poolQueueGroup,
} from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';

/** What nats-server lets one identity publish and subscribe to (a user JWT's permissions). */
export interface BusPermissions {
  readonly publish: readonly string[];
  /** Subjects, or `subject queue` to allow a subscription only in that queue group. */
  readonly subscribe: readonly string[];
  /**
   * Replies allowed to the messages it received (nats-server `allow_responses`): one per request,
   * within the TTL. Nothing else may be published into anyone's reply subjects.
   */
  readonly responses?: { readonly max: number; readonly ttlMs: number };
}

/**
 * The longest an evaluator or fetcher may take to answer: past it nats-server refuses the reply.
 * The API server waits at most 30 s for a webhook; a fetch of a large module can take longer.
 */
const EVALUATION_REPLY_TTL_MS = 60_000;
const FETCH_REPLY_TTL_MS = 10 * 60_000;

const JS_API = '$JS.API';

/**
 * The JetStream API and data subjects that let a client read (or own) a KV bucket or an object
 * store, restricted to the keys it may see. The subject layouts (`KV_<bucket>`, `$KV.<bucket>.<key>`,
 * `OBJ_<bucket>`, `$O.<bucket>.{C,M}.…`) are the ones every NATS client shares.
 */
const jetStream = {
  /** Read keys under `filter` (a KV key filter): get, and watch with a consumer filtered to them. */
  kvRead(bucket: string, filter: string): string[] {
    const stream = `KV_${bucket}`;
    return [
      `${JS_API}.STREAM.INFO.${stream}`,
      `${JS_API}.DIRECT.GET.${stream}.$KV.${bucket}.${filter}`,
      // nats.js creates filtered consumers with the filter in the subject, which nats-server
      // checks against the consumer's configuration: a reader cannot widen its filter.
      `${JS_API}.CONSUMER.CREATE.${stream}.*.$KV.${bucket}.${filter}`,
      `${JS_API}.CONSUMER.MSG.NEXT.${stream}.*`,
      `${JS_API}.CONSUMER.INFO.${stream}.*`,
      `${JS_API}.CONSUMER.DELETE.${stream}.*`,
    ];
  },
  /** Write (put, delete) keys under `filter`. */
  kvWrite(bucket: string, filter: string): string[] {
    return [`$KV.${bucket}.${filter}`];
  },
  /** Create the bucket when it does not exist yet, and read any of its messages by sequence. */
  kvOwn(bucket: string): string[] {
    return [`${JS_API}.STREAM.CREATE.KV_${bucket}`, `${JS_API}.STREAM.MSG.GET.KV_${bucket}`];
  },
  /** Create the bucket when it does not exist yet. */
  kvCreate(bucket: string): string[] {
    return [`${JS_API}.STREAM.CREATE.KV_${bucket}`];
  },
  /** Read objects: their entries and their chunks. */
  objectRead(bucket: string): string[] {
    const stream = `OBJ_${bucket}`;
    return [
      `${JS_API}.STREAM.INFO.${stream}`,
      // nats.js reads an object's entry by a message read whose subject is in the request body:
      // any message of the store, which a reader may see anyway.
      `${JS_API}.STREAM.MSG.GET.${stream}`,
      `${JS_API}.CONSUMER.CREATE.${stream}.*.$O.${bucket}.C.*`,
      `${JS_API}.CONSUMER.MSG.NEXT.${stream}.*`,
      `${JS_API}.CONSUMER.INFO.${stream}.*`,
      `${JS_API}.CONSUMER.DELETE.${stream}.*`,
    ];
  },
  /** Everything on the object store: create it, write and remove objects. */
  objectOwn(bucket: string): string[] {
    const stream = `OBJ_${bucket}`;
    return [
      `${JS_API}.STREAM.CREATE.${stream}`,
      `${JS_API}.STREAM.INFO.${stream}`,
      `${JS_API}.STREAM.PURGE.${stream}`,
      `${JS_API}.STREAM.MSG.GET.${stream}`,
      `${JS_API}.CONSUMER.CREATE.${stream}.>`,
      `${JS_API}.CONSUMER.MSG.NEXT.${stream}.*`,
      `${JS_API}.CONSUMER.INFO.${stream}.*`,
      `${JS_API}.CONSUMER.DELETE.${stream}.*`,
      `$O.${bucket}.>`,
    ];
  },
};

/** Account information: what `jetstreamManager` asks first. It tells usage, nothing of the data. */
const JS_ACCOUNT_INFO = `${JS_API}.INFO`;

/**
 * The permissions of each identity, least privilege (docs/security.md has the table and why):
 * - gateway: sends evaluations of every pool, reads the routes (policies, evaluator statuses);
 * - evaluator of pool P: takes P's evaluations in P's queue group and answers only those, reads P's
 *   policies and the modules, writes P's statuses;
 * - fetcher: answers fetch requests, owns the module store and the module index;
 * - control (reconciler, `castellan up`): writes policies, reads statuses and removes those of
 *   evaluators long gone, asks for fetches.
 * Every identity subscribes only under its own inbox prefix.
 */
export function busPermissions(identity: BusIdentity): BusPermissions {
  const inbox = `${inboxPrefix(identity)}.>`;
  switch (identity.role) {
    case 'gateway':
      return {
        publish: [
          EVALUATION_SUBJECTS,
          JS_ACCOUNT_INFO,
          ...jetStream.kvRead(Bucket.Policies, '>'),
          ...jetStream.kvRead(Bucket.Evaluators, '>'),
        ],
        subscribe: [inbox],
      };
    case 'evaluator': {
      const pool = poolKeyFilter(identity.pool);
      return {
        publish: [
          JS_ACCOUNT_INFO,
          ...jetStream.kvRead(Bucket.Policies, pool),
          ...jetStream.kvRead(Bucket.Evaluators, pool),
          ...jetStream.kvWrite(Bucket.Evaluators, pool),
          ...jetStream.kvCreate(Bucket.Evaluators),
          ...jetStream.objectRead(Bucket.Modules),
        ],
        subscribe: [`${poolEvaluationSubjects(identity.pool)} ${poolQueueGroup(identity.pool)}`, inbox],
        responses: { max: 1, ttlMs: EVALUATION_REPLY_TTL_MS },
      };
    }
    case 'fetcher':
      return {
        publish: [
          JS_ACCOUNT_INFO,
          ...jetStream.objectOwn(Bucket.Modules),
          ...jetStream.kvRead(Bucket.ModuleIndex, '>'),
          ...jetStream.kvWrite(Bucket.ModuleIndex, '>'),
          ...jetStream.kvOwn(Bucket.ModuleIndex),
        ],
        subscribe: [`${Subject.Fetch} ${QueueGroup.Fetchers}`, inbox],
        responses: { max: 1, ttlMs: FETCH_REPLY_TTL_MS },
      };
    case 'control':
      return {
        publish: [
          Subject.Fetch,
          JS_ACCOUNT_INFO,
          ...jetStream.kvRead(Bucket.Policies, '>'),
          ...jetStream.kvWrite(Bucket.Policies, '>'),
          ...jetStream.kvOwn(Bucket.Policies),
          ...jetStream.kvRead(Bucket.Evaluators, '>'),
          // It removes the statuses of evaluators long gone (EvaluatorDirectory).
          ...jetStream.kvWrite(Bucket.Evaluators, '>'),
          ...jetStream.kvCreate(Bucket.Evaluators),
        ],
        subscribe: [inbox],
      };
  }
}
