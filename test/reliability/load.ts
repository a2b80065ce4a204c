import { expect } from 'vitest';
import { exampleReview, POOL } from '../harness/castellan.js';
import type { CastellanProcesses, Verdict } from '../harness/castellan.js';

/** A request of a load run and its answer; times are `Date.now()`. */
export interface Answered<T> {
  index: number;
  sentAt: number;
  answeredAt: number;
  answer: T;
}

/** A request whose send failed, or that had no answer within the run's `answerWithinMs`. */
export interface Unanswered {
  index: number;
  sentAt: number;
  reason: string;
}

export interface LoadRun<T> {
  /** Requests sent. */
  sent: number;
  answered: Answered<T>[];
  unanswered: Unanswered[];
}

export interface LoadOptions {
  concurrency: number;
  durationMs: number;
  /**
   * How long a request may wait for its answer. Past it the request is recorded unanswered and its
   * loop goes on, so a hang fails the run's checks instead of stalling the test until vitest's timeout.
   */
  answerWithinMs: number;
}

/**
 * How long a request to a policy of `timeoutSeconds` may take: the gateway waits the policy's
 * timeout plus 500 ms before it answers by failure policy; 1 s of slack.
 */
export const answerWaitMs = (timeoutSeconds: number): number => timeoutSeconds * 1000 + 1500;

/** Runs `concurrency` request loops until `durationMs` has passed; every request sent is accounted for. */
export async function runLoad<T>(
  { concurrency, durationMs, answerWithinMs }: LoadOptions,
  send: (index: number) => Promise<T>,
): Promise<LoadRun<T>> {
  const run: LoadRun<T> = { sent: 0, answered: [], unanswered: [] };
  const end = Date.now() + durationMs;
  const loop = async () => {
    while (Date.now() < end) {
      const index = run.sent++;
      const sentAt = Date.now();
      const outcome = await answerWithin(send(index), answerWithinMs);
      if ('answer' in outcome) run.answered.push({ index, sentAt, answeredAt: Date.now(), ...outcome });
      else run.unanswered.push({ index, sentAt, ...outcome });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return run;
}

/** The answer, or why there is none: the send failed, or nothing came within `ms`. */
export async function answerWithin<T>(
  answer: Promise<T>,
  ms: number,
): Promise<{ answer: T } | { reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ reason: string }>((resolve) => {
    timer = setTimeout(() => resolve({ reason: `no answer within ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([
      answer.then(
        (value) => ({ answer: value }),
        (error: unknown) => ({ reason: `send failed: ${String(error)}` }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Each request sent got exactly one answer: none failed, none is still waiting. */
export function expectEveryRequestAnswered(run: LoadRun<unknown>): void {
  expect(run.unanswered, `${run.unanswered.length} of ${run.sent} requests got no answer`).toEqual([]);
  expect(new Set(run.answered.map((a) => a.index)).size, 'requests answered').toBe(run.sent);
}

/** An AdmissionReview with a uid of its own, so that its answer (which echoes the uid) is told apart. */
export function withUid(review: Buffer, uid: string): Buffer {
  const document = JSON.parse(review.toString('utf8')) as { request: { uid: string } };
  document.request.uid = uid;
  return Buffer.from(JSON.stringify(document));
}

export const PRIVILEGED_DENIED = 'Privileged container is not allowed';

/** One request of a pod load, and the answer it got. */
export interface PodAnswer {
  uid: string;
  privileged: boolean;
  verdict: Verdict;
}

/**
 * Sends privileged and unprivileged pods in turn to the pod-privileged policy `policyId`, each
 * request with a uid of its own.
 */
export async function podSender(
  castellan: CastellanProcesses,
  policyId: string,
): Promise<(index: number) => Promise<PodAnswer>> {
  const [privilegedPod, plainPod] = await Promise.all([
    exampleReview('privileged-pod'),
    exampleReview('unprivileged-pod'),
  ]);
  return async (index) => {
    const privileged = index % 2 === 1;
    const uid = `${privileged ? 'privileged' : 'unprivileged'}-${index}`;
    const verdict = await castellan.validate(policyId, withUid(privileged ? privilegedPod : plainPod, uid));
    return { uid, privileged, verdict };
  };
}

/**
 * What answered a pod: the policy, with the verdict expected for that pod (privileged denied with
 * the policy's message, unprivileged allowed); the gateway's failure policy (Fail), in its exact
 * shape; or something else, which is wrong. Every answer must echo its request's uid.
 */
export function judgePod(
  policyId: string,
  { uid, privileged, verdict }: PodAnswer,
): 'policy' | 'failure policy' | 'wrong' {
  if (verdict.status !== 200 || verdict.uid !== uid) return 'wrong';
  if (verdict.code === 500) {
    return verdict.allowed === false && failurePolicyMessage(policyId).test(verdict.message ?? '')
      ? 'failure policy'
      : 'wrong';
  }
  const expected = privileged ? { allowed: false, message: PRIVILEGED_DENIED } : { allowed: true };
  return verdict.code === undefined &&
    verdict.allowed === expected.allowed &&
    verdict.message === expected.message
    ? 'policy'
    : 'wrong';
}

/** The message of the gateway's failure-policy deny (Fail) of `policyId`, whatever the reason. */
export function failurePolicyMessage(policyId: string): RegExp {
  return new RegExp(
    `^policy ${policyId} was not evaluated: evaluator pool "${POOL}" did not answer \\(.+\\)$`,
  );
}

/** The answers of a pod load by what answered them (see `judgePod`). */
export function judgePodLoad(policyId: string, run: LoadRun<PodAnswer>) {
  const of = (kind: ReturnType<typeof judgePod>) =>
    run.answered.filter((answered) => judgePod(policyId, answered.answer) === kind);
  return { policy: of('policy'), failurePolicy: of('failure policy'), wrong: of('wrong') };
}
