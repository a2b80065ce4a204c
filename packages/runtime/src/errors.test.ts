import { describe, expect, it } from 'vitest';
import { describeError, RuntimeError, RuntimeErrorCode } from './errors.js';

describe('error codes', () => {
  it('are unique', () => {
    const codes = Object.values(RuntimeErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('round-trip through their serialisable record, recognised by code', () => {
    const error = new RuntimeError(RuntimeErrorCode.MetadataInvalid, 'rules: required');
    const copy = RuntimeError.fromRecord(structuredClone(error.toRecord()));
    expect(copy.code).toBe(RuntimeErrorCode.MetadataInvalid);
    expect(copy.message).toBe('rules: required');
  });
});

describe('describeError', () => {
  it('reads errors, plain {message} objects and thrown strings', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError({ message: 'not implemented: built-in function 0: http.send' })).toBe(
      'not implemented: built-in function 0: http.send',
    );
    expect(describeError('aborted')).toBe('aborted');
  });
});
