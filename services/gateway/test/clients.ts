/** Minimal HTTPS clients for the gateway tests: HTTP/1.1 (node:https) and HTTP/2 (node:http2). */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { Agent } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { PeerCertificate, SecureVersion, TLSSocket } from 'node:tls';

export interface TlsClientOptions {
  /** Trusted server CAs (PEM). */
  ca: string | string[];
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string;
  key?: string;
  /** The only cipher suites offered (OpenSSL names), and the newest TLS version. */
  ciphers?: string;
  maxVersion?: SecureVersion;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The certificate the server presented on this connection. */
  peer: PeerCertificate;
}

/** A 200 answer's body, as the tests read it: an AdmissionReview (or `{response}`). */
export interface Review {
  apiVersion?: string;
  kind?: string;
  response: {
    uid: string;
    allowed: boolean;
    patchType?: string;
    patch?: string;
    status?: { message?: string; code?: number; details?: { causes?: { message?: string }[] } };
    auditAnnotations: Record<string, string> | null;
    warnings: string[] | null;
  };
}

export interface PostOptions {
  headers?: Record<string, string>;
  /**
   * A string or bytes; an iterable of chunks is sent chunked (no content-length), an async one as
   * its chunks come, until the request is answered.
   */
  body?: string | Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;
  method?: string;
  /** HTTP/1.1 only; default: a fresh connection per request. */
  agent?: Agent;
}

export function parseJson(answer: Answer): unknown {
  return JSON.parse(answer.text);
}

export function http1(url: string, tls: TlsClientOptions, options: PostOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        method: options.method ?? 'POST',
        headers: options.headers ?? { 'content-type': 'application/json' },
        agent: options.agent ?? false,
        ...(options.agent === undefined ? tls : {}),
      },
      (response) => {
        const peer = (response.socket as TLSSocket).getPeerCertificate();
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            peer,
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    writeBody(request, options.body);
  });
}

export function http2(url: string, tls: TlsClientOptions, options: PostOptions = {}): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const session = connect(target.origin, tls);
    session.on('error', reject);
    const stream = session.request({
      ':method': options.method ?? 'POST',
      ':path': `${target.pathname}${target.search}`,
      ...(options.headers ?? { 'content-type': 'application/json' }),
    });
    const chunks: Buffer[] = [];
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    let peer: PeerCertificate | undefined;
    stream.on('response', (received) => {
      status = Number(received[':status']);
      headers = received;
      peer = (session.socket as TLSSocket).getPeerCertificate();
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error: Error) => {
      session.close();
      reject(error);
    });
    stream.on('close', () => {
      session.close();
      if (status === 0 || peer === undefined)
        reject(new Error(`stream closed without a response (code ${stream.rstCode})`));
      else resolve({ status, headers, text: Buffer.concat(chunks).toString('utf8'), peer });
    });
    writeBody(stream, options.body);
  });
}

/** GET on the plain-HTTP readiness/metrics port. */
export function getPlain(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

interface BodySink {
  readonly destroyed: boolean;
  write(chunk: Buffer | string): unknown;
  end(chunk?: Buffer | string): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

function writeBody(sink: BodySink, body: PostOptions['body']): void {
  // The server may answer and close before the whole body is sent (413): not the client's error.
  sink.on('error', () => undefined);
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    sink.end(body);
    return;
  }
  if (Symbol.asyncIterator in body) {
    void trickle(sink, body);
    return;
  }
  for (const chunk of body) sink.write(chunk);
  sink.end();
}

async function trickle(sink: BodySink, body: AsyncIterable<Buffer>): Promise<void> {
  for await (const chunk of body) {
    if (sink.destroyed) return;
    sink.write(chunk);
  }
  sink.end();
}
