/**
 * Checks of a webhook request body before anything is dispatched
 * (docs/kubewarden-compatibility.md#endpoints): the content type, that it is JSON, and that it is an
 * AdmissionReview (or `{request}` for `/validate_raw`). The status codes and message prefixes are those
 * policy-server's HTTP framework answers with.
 */
import { messageOf } from '@castellan/proto';
import { RuntimeError, normaliseAdmissionRequest } from '@castellan/runtime';
import type { EvaluationOrigin } from './dispatch.js';
import type { UnreadBody } from './request-body.js';

/** The Kubernetes API server never sends a request body larger than this. */
export const MAX_ADMISSION_BODY_BYTES = 3 * 1024 * 1024;

export interface BodyProblem {
  status: 400 | 408 | 413 | 415 | 422 | 503;
  message: string;
}

/** What the gateway needs from the request; the body itself travels to the evaluator untouched. */
export interface AdmissionBody {
  /**
   * The request uid; for raw requests `request.uid` when it is a string, else ""
   * (docs/kubewarden-compatibility.md#validation-request).
   */
  uid: string;
  /** Absent for raw requests. */
  namespace: string | undefined;
  /** `requestKind.kind` (the metrics' `resource_kind`), "" when absent. */
  requestKind: string;
  operation: string;
}

export type AdmissionBodyParse = { ok: true; body: AdmissionBody } | { ok: false; problem: BodyProblem };

const JSON_MEDIA_TYPE = /^application\/([a-z0-9!#$&^_.+-]+\+)?json$/;

/** `application/json` or `application/<anything>+json`, with any parameters. */
export function checkContentType(header: string | undefined): BodyProblem | undefined {
  const mediaType = (header ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  if (JSON_MEDIA_TYPE.test(mediaType)) return undefined;
  return { status: 415, message: 'Expected request with `Content-Type: application/json`' };
}

/** Why a body was not read whole: too large, no memory left for it, or too slow to arrive. */
export function unreadBodyProblem(
  read: UnreadBody,
  bounds: { maxRequestBytesInFlight: number; requestTimeoutMs: number },
): BodyProblem {
  switch (read.kind) {
    case 'too-large':
      return {
        status: 413,
        message: `request body is larger than ${MAX_ADMISSION_BODY_BYTES} bytes, the most the Kubernetes API server sends`,
      };
    case 'over-capacity':
      return {
        status: 503,
        message: `this body would take the request bodies the gateway holds past its cap of ${bounds.maxRequestBytesInFlight} bytes (CASTELLAN_MAX_REQUEST_BYTES_IN_FLIGHT): try again`,
      };
    case 'timed-out':
      return {
        status: 408,
        message: `the request body did not arrive within ${bounds.requestTimeoutMs} ms (CASTELLAN_REQUEST_TIMEOUT_MS)`,
      };
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseAdmissionBody(bytes: Uint8Array, origin: EvaluationOrigin): AdmissionBodyParse {
  let document: unknown;
  try {
    document = JSON.parse(utf8.decode(bytes));
  } catch (error) {
    const detail = error instanceof TypeError ? 'the body is not valid UTF-8' : messageOf(error);
    return fail(400, `Failed to parse the request body as JSON: ${detail}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    const expected = origin === 'validate_raw' ? 'a map with a "request" field' : 'an AdmissionReview';
    return notAReview(`expected ${expected}, got ${jsonTypeName(document)}`);
  }
  if (!Object.hasOwn(document, 'request')) return notAReview('missing field `request`');
  const request = (document as { request: unknown }).request;
  if (origin === 'validate_raw') {
    const uid = isMap(request) && typeof request.uid === 'string' ? request.uid : '';
    return { ok: true, body: { uid, namespace: undefined, requestKind: '', operation: '' } };
  }
  try {
    const admission = normaliseAdmissionRequest(request);
    return {
      ok: true,
      body: {
        uid: admission.uid,
        namespace: admission.namespace,
        requestKind: admission.requestKind?.kind ?? '',
        operation: admission.operation,
      },
    };
  } catch (error) {
    if (error instanceof RuntimeError) return notAReview(error.message);
    throw error;
  }
}

function notAReview(detail: string): AdmissionBodyParse {
  return fail(422, `Failed to deserialize the JSON body into the target type: ${detail}`);
}

function fail(status: BodyProblem['status'], message: string): AdmissionBodyParse {
  return { ok: false, problem: { status, message } };
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
