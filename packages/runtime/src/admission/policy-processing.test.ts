import { describe, expect, it } from 'vitest';
import { applyPolicyConfiguration, mutationNotAllowedMessage } from './policy-processing.js';
import type { PolicyConfiguration } from './policy-processing.js';
import type { AdmissionResponse } from './types.js';

const MUTATION_REFUSED =
  'Request rejected by policy psp-user. The policy attempted to mutate the request, but it is currently configured to not allow mutations.';

const accepted: AdmissionResponse = { uid: 'u', allowed: true, auditAnnotations: null, warnings: null };

const denied: AdmissionResponse = {
  uid: 'u',
  allowed: false,
  status: { message: 'root is not allowed', code: 403 },
  auditAnnotations: { 'psp-user/decision': 'deny' },
  warnings: ['runAsUser missing'],
};

const mutated: AdmissionResponse = {
  uid: 'u',
  allowed: true,
  patchType: 'JSONPatch',
  patch: 'W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d',
  status: { message: 'defaulted runAsUser' },
  auditAnnotations: null,
  warnings: ['mutated'],
};

function configuration(overrides: Partial<PolicyConfiguration>): PolicyConfiguration {
  return { policyId: 'psp-user', policyMode: 'protect', allowedToMutate: true, ...overrides };
}

describe('mutationNotAllowedMessage', () => {
  it('names the policy', () => {
    expect(mutationNotAllowedMessage('psp-user')).toBe(MUTATION_REFUSED);
  });
});

describe('applyPolicyConfiguration', () => {
  it('leaves a protect-mode response alone when nothing applies', () => {
    expect(applyPolicyConfiguration(denied, configuration({}))).toEqual(denied);
    expect(applyPolicyConfiguration(mutated, configuration({}))).toEqual(mutated);
    expect(applyPolicyConfiguration(accepted, configuration({ customMessage: 'x' }))).toEqual(accepted);
  });

  it('does not modify its input', () => {
    const input = structuredClone(denied);
    applyPolicyConfiguration(input, configuration({ policyMode: 'monitor', customMessage: 'x' }));
    expect(input).toEqual(denied);
  });

  describe('monitor mode', () => {
    it('admits a denial, dropping status but keeping warnings and audit annotations', () => {
      expect(applyPolicyConfiguration(denied, configuration({ policyMode: 'monitor' }))).toEqual({
        uid: 'u',
        allowed: true,
        auditAnnotations: { 'psp-user/decision': 'deny' },
        warnings: ['runAsUser missing'],
      });
    });

    it('drops a patch, even when the policy may mutate', () => {
      const response = applyPolicyConfiguration(mutated, configuration({ policyMode: 'monitor' }));
      expect(response).toEqual({ uid: 'u', allowed: true, auditAnnotations: null, warnings: ['mutated'] });
      expect(Object.keys(response)).toEqual(['uid', 'allowed', 'auditAnnotations', 'warnings']);
    });

    it('wins over the mutation refusal and the custom message', () => {
      const response = applyPolicyConfiguration(
        mutated,
        configuration({
          policyMode: 'monitor',
          allowedToMutate: false,
          customMessage: 'Ask the platform team',
        }),
      );
      expect(response).toEqual({ uid: 'u', allowed: true, auditAnnotations: null, warnings: ['mutated'] });
    });
  });

  describe('mutation constraint', () => {
    it('denies a patch from a policy not allowed to mutate, with a status holding only the message', () => {
      const response = applyPolicyConfiguration(mutated, configuration({ allowedToMutate: false }));
      expect(response).toEqual({
        uid: 'u',
        allowed: false,
        status: { message: MUTATION_REFUSED },
        auditAnnotations: null,
        warnings: ['mutated'],
      });
      expect(JSON.stringify(response)).toBe(
        `{"uid":"u","allowed":false,"status":{"message":"${MUTATION_REFUSED}"},"auditAnnotations":null,"warnings":["mutated"]}`,
      );
    });

    it('leaves responses without a patch alone', () => {
      expect(applyPolicyConfiguration(denied, configuration({ allowedToMutate: false }))).toEqual(denied);
    });
  });

  describe('custom message', () => {
    it('replaces the message of a denial and keeps the original as a cause, with the other status fields', () => {
      const response = applyPolicyConfiguration(
        denied,
        configuration({ customMessage: 'Ask the platform team' }),
      );
      expect(response).toEqual({
        ...denied,
        status: {
          message: 'Ask the platform team',
          details: { causes: [{ message: 'root is not allowed' }] },
          code: 403,
        },
      });
      expect(JSON.stringify(response.status)).toBe(
        '{"message":"Ask the platform team","details":{"causes":[{"message":"root is not allowed"}]},"code":403}',
      );
    });

    it('appends to existing causes and keeps the other details', () => {
      const withDetails: AdmissionResponse = {
        ...denied,
        status: {
          message: 'group denied',
          details: { name: 'n', causes: [{ field: 'spec.policies.a', message: 'a said no' }] },
        },
      };
      expect(
        applyPolicyConfiguration(withDetails, configuration({ customMessage: 'custom' })).status,
      ).toEqual({
        message: 'custom',
        details: {
          name: 'n',
          causes: [{ field: 'spec.policies.a', message: 'a said no' }, { message: 'group denied' }],
        },
      });
    });

    it('records an empty original message when the denial had none', () => {
      const bare: AdmissionResponse = { uid: 'u', allowed: false, auditAnnotations: null, warnings: null };
      expect(applyPolicyConfiguration(bare, configuration({ customMessage: 'custom' })).status).toEqual({
        message: 'custom',
        details: { causes: [{ message: '' }] },
      });
    });

    it('applies to the mutation refusal, which becomes the recorded cause', () => {
      const response = applyPolicyConfiguration(
        mutated,
        configuration({ allowedToMutate: false, customMessage: 'Ask the platform team' }),
      );
      expect(response).toEqual({
        uid: 'u',
        allowed: false,
        status: { message: 'Ask the platform team', details: { causes: [{ message: MUTATION_REFUSED }] } },
        auditAnnotations: null,
        warnings: ['mutated'],
      });
    });

    it('applies an empty custom message, which is still a configured one', () => {
      expect(applyPolicyConfiguration(denied, configuration({ customMessage: '' })).status?.message).toBe('');
    });
  });
});
