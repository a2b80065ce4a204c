import { messageOf } from '@castellan/proto';
import { ApiException } from '@kubernetes/client-node';

/** How the API server answered a failed request: its HTTP status and its Status message. */
export interface ApiFailure {
  code: number;
  message: string;
}

/**
 * The API server's answer carried by a client-node `ApiException`; undefined for anything else
 * (a refused connection, a timeout), which never reached the server's logic.
 */
export function apiFailureOf(error: unknown): ApiFailure | undefined {
  if (!(error instanceof ApiException)) return undefined;
  return { code: error.code, message: statusMessage(error.body) ?? `HTTP ${error.code}` };
}

/** One line for a log or an error message: `HTTP 409: <Status message>`, or the error's own message. */
export function describeApiFailure(error: unknown): string {
  const failure = apiFailureOf(error);
  if (failure) return `HTTP ${failure.code}: ${failure.message}`;
  return messageOf(error);
}

/** client-node keeps an error response's body as text: the JSON of a metav1.Status. */
function statusMessage(body: unknown): string | undefined {
  let status: unknown = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return body.trim() || undefined;
    }
  }
  if (typeof status === 'object' && status !== null && 'message' in status) {
    return typeof status.message === 'string' ? status.message : undefined;
  }
  return undefined;
}
