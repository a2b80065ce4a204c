/**
 * The seam between the gateway's HTTP layer and the evaluator pools. The gateway only knows these
 * interfaces; `main.ts` implements them over NATS (the policy KV for routes, request/reply for
 * evaluations), tests implement them in process.
 */
import type { EvaluationOrigin, FailurePolicy, PolicyMode } from '@castellan/proto';
import type { AdmissionResponse } from '@castellan/runtime';

export type { EvaluationOrigin, FailurePolicy, PolicyMode };

/** How the gateway reaches a policy, as read from the policy KV. */
export interface PolicyRoute {
  policyId: string;
  pool: string;
  revision: number;
  policyMode: PolicyMode;
  allowedToMutate: boolean;
  customMessage?: string | undefined;
  /** Evaluation deadline of the policy, seconds. */
  timeoutSeconds: number;
  /** What the gateway answers itself when no evaluator answers. */
  failurePolicy: FailurePolicy;
}

export interface PolicyRoutes {
  get(policyId: string): PolicyRoute | undefined;
}

export interface EvaluationCall {
  route: PolicyRoute;
  origin: EvaluationOrigin;
  /** The HTTP body exactly as received (AdmissionReview, or `{request}` for validate_raw); never re-encoded. */
  body: Uint8Array;
  uid: string;
  /** How long the gateway waits for the reply; past it the gateway has answered by failure policy. */
  timeoutMs: number;
}

export type EvaluationOutcome =
  /** The policy's own verdict, before monitor mode, the mutation constraint and the custom message. */
  | { kind: 'verdict'; response: AdmissionResponse }
  /** No evaluator answered: no responders, no reply in time, pool down. */
  | { kind: 'unavailable'; reason: string };

export interface EvaluationDispatcher {
  evaluate(call: EvaluationCall): Promise<EvaluationOutcome>;
}
