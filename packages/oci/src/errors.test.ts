import { describe, expect, it } from 'vitest';
import { OciError, OciErrorCode } from './errors.js';

// test/error-codes.test.ts keeps these codes and docs/errors.md in step.
describe('OciError', () => {
  it('round-trips through its serialisable record, recognised by code', () => {
    const error = new OciError(OciErrorCode.DigestMismatch, 'layer digest mismatch');
    const copy = OciError.fromRecord(structuredClone(error.toRecord()));
    expect(copy).toBeInstanceOf(OciError);
    expect(copy.code).toBe(OciErrorCode.DigestMismatch);
    expect(copy.message).toBe('layer digest mismatch');
  });

  it('reads an unknown code as registry unavailable', () => {
    expect(OciError.fromRecord({ code: 'CASTELLAN_OCI_FROM_THE_FUTURE', message: 'x' }).code).toBe(
      OciErrorCode.RegistryUnavailable,
    );
  });
});
