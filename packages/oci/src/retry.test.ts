import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  isTlsError,
  isTransientNetworkError,
} from './retry.js';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('retry classification', () => {
  it('retries 5xx and 429, never another 4xx', () => {
    expect([500, 502, 503, 504, 429].map(isRetryableStatus)).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 416].map(isRetryableStatus)).toEqual([false, false, false, false, false]);
  });

  it('retries connection failures, found along the cause chain and inside AggregateErrors', () => {
    expect(isTransientNetworkError(withCode('ECONNREFUSED'))).toBe(true);
    expect(isTransientNetworkError(withCode('UND_ERR_SOCKET'))).toBe(true);
    expect(isTransientNetworkError(new TypeError('fetch failed', { cause: withCode('ECONNRESET') }))).toBe(
      true,
    );
    expect(isTransientNetworkError(new AggregateError([withCode('ETIMEDOUT')]))).toBe(true);
    expect(isTransientNetworkError(withCode('ENOTFOUND'))).toBe(false);
    expect(isTransientNetworkError(withCode('DEPTH_ZERO_SELF_SIGNED_CERT'))).toBe(false);
    expect(isTransientNetworkError('ECONNRESET')).toBe(false);
  });

  it('recognises certificate and TLS protocol errors', () => {
    for (const code of [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ERR_SSL_WRONG_VERSION_NUMBER',
      'CERT_HAS_EXPIRED',
    ]) {
      expect(isTlsError(withCode(code)), code).toBe(true);
    }
    expect(isTlsError(withCode('ECONNREFUSED'))).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base delay, with jitter in the upper half, capped', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 1)).toBe(400);
    expect(backoffDelay(policy, 10, () => 1)).toBe(1_000);
  });
});
