/** How often and how patiently a request is retried after a transient failure. */
export interface RetryPolicy {
  /** Total attempts, the first included; 1 disables retries. */
  attempts: number;
  /** Delay before the first retry; doubles with each further retry, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Three attempts, retried after 100–200 ms and 200–400 ms: rides out a blip, fails fast on an outage. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  attempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
});

/** Connection failures worth another try; DNS NXDOMAIN (ENOTFOUND) is not among them. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** OpenSSL verification codes and Node's TLS/SSL error codes. */
const TLS_CODE =
  /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$|EPROTO$)/;

/** 5xx and 429 are retried; every other 4xx is the caller's mistake and is not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

export function isTransientNetworkError(error: unknown): boolean {
  return errorCodes(error).some((code) => TRANSIENT_NETWORK_CODES.has(code));
}

/** A certificate or TLS handshake failure (including TLS spoken to a plain-HTTP server). */
export function isTlsError(error: unknown): boolean {
  return errorCodes(error).some((code) => TLS_CODE.test(code));
}

/**
 * A TLS failure in one line a user can act on: OpenSSL's messages span lines and name its source
 * files; its `reason` (or the first line) says what happened.
 */
export function tlsFailureReason(error: unknown): string {
  if (errorCodes(error).includes('ERR_SSL_WRONG_VERSION_NUMBER')) {
    return 'the server does not speak TLS (a plain-HTTP registry?)';
  }
  for (let current: unknown = error, depth = 0; current && depth <= 5; depth++) {
    const { reason, cause } = current as { reason?: unknown; cause?: unknown };
    if (typeof reason === 'string' && reason !== '') return reason;
    current = cause;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() ?? message;
}

/** Delay before retry number `retry` (1-based): exponential, capped, with "equal jitter". */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The `code`s along an error's cause chain, including each of an AggregateError's errors. */
function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 5) return [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof code === 'string' ? [code] : [];
  const nested = Array.isArray(errors) ? errors.flatMap((inner) => errorCodes(inner, depth + 1)) : [];
  return [...own, ...errorCodes(cause, depth + 1), ...nested];
}
