import { describe, expect, it } from 'vitest';
import type { PolicyRoute } from './dispatch.js';
import { failurePolicyAnswer } from './failure-policy.js';

const route: PolicyRoute = {
  policyId: 'psp-capabilities',
  pool: 'tenant-a',
  revision: 3,
  policyMode: 'protect',
  allowedToMutate: false,
  timeoutSeconds: 2,
  failurePolicy: 'Fail',
};

describe('failurePolicyAnswer', () => {
  it('denies with a 500 explaining which pool did not answer under Fail', () => {
    expect(failurePolicyAnswer(route, 'uid-1', 'no responders')).toEqual({
      uid: 'uid-1',
      allowed: false,
      status: {
        message:
          'policy psp-capabilities was not evaluated: evaluator pool "tenant-a" did not answer (no responders)',
        code: 500,
      },
      auditAnnotations: null,
      warnings: null,
    });
  });

  it('admits with a warning under Ignore', () => {
    expect(
      failurePolicyAnswer({ ...route, failurePolicy: 'Ignore' }, 'uid-2', 'no reply within 750 ms'),
    ).toEqual({
      uid: 'uid-2',
      allowed: true,
      auditAnnotations: null,
      warnings: [
        'castellan: policy psp-capabilities was not evaluated: pool "tenant-a" did not answer (no reply within 750 ms); allowed by failurePolicy Ignore',
      ],
    });
  });
});
