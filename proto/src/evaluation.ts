import { decodeMessage, encodeMessage } from './codec.js';
import type { MessageFields } from './codec.js';
import type { WireError } from './errors.js';

export const EVALUATION_ORIGINS = ['validate', 'validate_raw', 'audit'] as const;
export type EvaluationOrigin = (typeof EVALUATION_ORIGINS)[number];

/** One admission request for one policy revision (`evaluationSubject`). */
export interface EvaluationRequest {
  policyId: string;
  revision: number;
  origin: EvaluationOrigin;
  /** The HTTP body exactly as the gateway received it; the evaluator parses it, nobody re-encodes it. */
  body: Uint8Array;
  uid: string;
  /** Milliseconds since the epoch after which the gateway no longer waits: work past it is wasted. */
  deadline: number;
}

/**
 * The evaluator's answer: the policy's own verdict (before the gateway applies monitor mode,
 * the mutation constraint and the custom message), or why there is none.
 */
export type EvaluationReply = { ok: true; response: MessageFields } | { ok: false; error: WireError };

export function encodeEvaluationRequest(request: EvaluationRequest): Uint8Array {
  return encodeMessage(request);
}

export function decodeEvaluationRequest(bytes: Uint8Array): EvaluationRequest {
  const reader = decodeMessage(bytes, 'EvaluationRequest');
  return {
    policyId: reader.string('policyId'),
    revision: reader.number('revision'),
    origin: reader.oneOf('origin', EVALUATION_ORIGINS),
    body: reader.bytes('body'),
    uid: reader.string('uid'),
    deadline: reader.number('deadline'),
  };
}

export function encodeEvaluationReply(reply: EvaluationReply): Uint8Array {
  return encodeMessage(reply);
}

export function decodeEvaluationReply(bytes: Uint8Array): EvaluationReply {
  const reader = decodeMessage(bytes, 'EvaluationReply');
  return reader.boolean('ok')
    ? { ok: true, response: reader.json('response') }
    : { ok: false, error: reader.wireError('error') };
}
