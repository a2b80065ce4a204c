/**
 * Reads a request body up to a cap. A body over the cap is refused as soon as it is known to be
 * (from `content-length`, or when the bytes read pass the cap): it is never buffered whole.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export type BodyRead = { kind: 'complete'; bytes: Buffer } | { kind: 'too-large' };

export interface BodySource extends Readable {
  headers: IncomingHttpHeaders;
}

export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
}

export function readRequestBody(request: BodySource, limit: number): Promise<BodyRead> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > limit) return Promise.resolve({ kind: 'too-large' });
  return new Promise<BodyRead>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: BodyRead | Error): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        request.pause();
        finish({ kind: 'too-large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish({ kind: 'complete', bytes: Buffer.concat(chunks, size) });
    const onError = (error: Error): void =>
      finish(new RequestAbortedError(`reading the request body failed: ${error.message}`, { cause: error }));
    const onClose = (): void =>
      finish(new RequestAbortedError('the client closed the request before its end'));
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onError);
    request.once('close', onClose);
  });
}
