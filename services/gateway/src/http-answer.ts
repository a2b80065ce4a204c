/** Writing the gateway's answers, the same way over HTTP/1.1 and HTTP/2. */
import { constants as http2Constants } from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AdmissionResponse } from '@castellan/runtime';
import type { EvaluationOrigin } from './dispatch.js';

export type GatewayRequest = IncomingMessage | Http2ServerRequest;
export type GatewayResponse = ServerResponse | Http2ServerResponse;

/** The JSON body of every non-200 answer, as policy-server writes it. */
export interface ErrorBody {
  message: string;
  status: number;
}

export function sendJson(
  response: GatewayResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  const sink: {
    writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
    end(text: string): unknown;
  } = response;
  sink.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  sink.end(text);
}

export function sendError(
  response: GatewayResponse,
  status: number,
  message: string,
  headers?: OutgoingHttpHeaders,
): void {
  const body: ErrorBody = { message, status };
  sendJson(response, status, body, headers);
}

/**
 * The 200 body: an AdmissionReview for `/validate` and `/audit` (always `admission.k8s.io/v1`, as
 * policy-server writes it: Castellan registers its webhooks for v1 only), a bare `{response}` for
 * `/validate_raw`.
 */
export function answerBody(origin: EvaluationOrigin, response: AdmissionResponse): unknown {
  const ordered = orderedResponse(response);
  if (origin === 'validate_raw') return { response: ordered };
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: ordered };
}

/**
 * Answering before the body was read: the rest of it is not read. HTTP/1.1 closes the connection
 * after the answer. HTTP/2 resets the stream once the answer is out (RFC 9113 §8.1); with CANCEL
 * rather than NO_ERROR, because Node's own client keeps waiting on its unsent body after NO_ERROR.
 */
export function abandonRequestBody(request: GatewayRequest, response: GatewayResponse): void {
  if (request.complete) return;
  if ('stream' in response) {
    const stream = response.stream;
    stream.once('finish', () => {
      if (!stream.closed) stream.close(http2Constants.NGHTTP2_CANCEL);
    });
  } else {
    response.setHeader('connection', 'close');
  }
}

/** Key order of the reference serialisation; `auditAnnotations` and `warnings` are always present. */
function orderedResponse(response: AdmissionResponse): AdmissionResponse {
  return {
    uid: response.uid,
    allowed: response.allowed,
    ...(response.patchType === undefined ? {} : { patchType: response.patchType }),
    ...(response.patch === undefined ? {} : { patch: response.patch }),
    ...(response.status === undefined ? {} : { status: response.status }),
    auditAnnotations: response.auditAnnotations ?? null,
    warnings: response.warnings ?? null,
  };
}
