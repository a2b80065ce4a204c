/**
 * What the gateway answers itself when no evaluator of the policy's pool answered: the policy's
 * webhook failure policy, applied here so that the apiserver gets a prompt, explained decision
 * instead of timing out on the webhook.
 */
import type { AdmissionResponse } from '@castellan/runtime';
import type { PolicyRoute } from './dispatch.js';

export function failurePolicyAnswer(route: PolicyRoute, uid: string, reason: string): AdmissionResponse {
  const { policyId, pool } = route;
  if (route.failurePolicy === 'Ignore') {
    return {
      uid,
      allowed: true,
      auditAnnotations: null,
      warnings: [
        `castellan: policy ${policyId} was not evaluated: pool "${pool}" did not answer (${reason}); allowed by failurePolicy Ignore`,
      ],
    };
  }
  return {
    uid,
    allowed: false,
    status: {
      message: `policy ${policyId} was not evaluated: evaluator pool "${pool}" did not answer (${reason})`,
      code: 500,
    },
    auditAnnotations: null,
    warnings: null,
  };
}
