import { describe, expectTypeOf, it } from 'vitest';
import type { AdmissionRequest, AdmissionResponse, PolicyMode, ValidationResponse } from './types.js';

// Type-level checks: they fail the type check (vitest --typecheck or tsc over the tests), not the run.
describe('admission types', () => {
  it('always carry auditAnnotations and warnings on a response, possibly null', () => {
    expectTypeOf<AdmissionResponse['auditAnnotations']>().toEqualTypeOf<Record<string, string> | null>();
    expectTypeOf<AdmissionResponse['warnings']>().toEqualTypeOf<string[] | null>();
    expectTypeOf<AdmissionResponse['patchType']>().toEqualTypeOf<'JSONPatch' | undefined>();
  });

  it('spell guest replies in snake_case', () => {
    expectTypeOf<ValidationResponse>().toHaveProperty('mutated_object');
    expectTypeOf<ValidationResponse>().toHaveProperty('audit_annotations');
  });

  it('require the fields the reference model requires', () => {
    expectTypeOf<Pick<AdmissionRequest, 'uid' | 'operation'>>().toEqualTypeOf<{
      uid: string;
      operation: string;
    }>();
    expectTypeOf<PolicyMode>().toEqualTypeOf<'protect' | 'monitor'>();
  });
});
