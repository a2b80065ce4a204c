/**
 * How long the gateway waits for an evaluator before it answers by failure policy.
 *
 * The rule: wait = min(caller budget, policy budget), where
 * - caller budget = the apiserver's `?timeout=` minus a safety margin of 10 % of it, at least
 *   250 ms, at most half of it. The failure-policy answer must reach the apiserver before the
 *   apiserver gives up on the webhook, or its own failurePolicy (and a slow, opaque error) applies.
 *   Without a usable `?timeout=` (absent, malformed, not positive) the caller is assumed to wait
 *   Kubernetes' default webhook timeout, 10 s.
 * - policy budget = the policy's evaluation deadline (the route's `timeoutSeconds`, or the configured
 *   default when the route has none) plus 500 ms of grace, so that the evaluator's own "execution
 *   interrupted" verdict arrives instead of a failure-policy answer.
 */
import { parseGoDuration } from './go-duration.js';

export const CALLER_MARGIN_FRACTION = 0.1;
export const CALLER_MARGIN_MIN_MS = 250;
export const POLICY_GRACE_MS = 500;
/** What the apiserver waits when a webhook configuration sets no `timeoutSeconds`. */
export const KUBERNETES_DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

export interface EvaluationWaitInputs {
  /** The raw `timeout` query parameter, if any. */
  callerTimeout: string | undefined;
  policyTimeoutSeconds: number;
  defaultPolicyTimeoutSeconds: number;
}

export function evaluationWaitMs(inputs: EvaluationWaitInputs): number {
  return Math.round(Math.min(callerBudgetMs(inputs.callerTimeout), policyBudgetMs(inputs)));
}

function callerBudgetMs(callerTimeout: string | undefined): number {
  const parsed = callerTimeout === undefined ? undefined : parseGoDuration(callerTimeout);
  const timeout = parsed !== undefined && parsed > 0 ? parsed : KUBERNETES_DEFAULT_WEBHOOK_TIMEOUT_MS;
  const margin = Math.min(Math.max(timeout * CALLER_MARGIN_FRACTION, CALLER_MARGIN_MIN_MS), timeout / 2);
  return timeout - margin;
}

function policyBudgetMs({ policyTimeoutSeconds, defaultPolicyTimeoutSeconds }: EvaluationWaitInputs): number {
  const seconds =
    Number.isFinite(policyTimeoutSeconds) && policyTimeoutSeconds > 0
      ? policyTimeoutSeconds
      : defaultPolicyTimeoutSeconds;
  return seconds * 1_000 + POLICY_GRACE_MS;
}
