/**
 * Reads a request body within three bounds: its size, the memory shared by every request in flight,
 * and a deadline. A body past a bound is refused as soon as it is known to be (from
 * `content-length`, or when the bytes read pass it): it is never buffered whole, and what was read
 * is dropped.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { MemoryLease } from './request-memory.js';

export type BodyRead =
  | { kind: 'complete'; bytes: Buffer }
  | { kind: 'too-large' }
  | { kind: 'over-capacity' }
  | { kind: 'timed-out' };

export type UnreadBody = Exclude<BodyRead, { kind: 'complete' }>;

export interface BodySource extends Readable {
  headers: IncomingHttpHeaders;
}

export interface BodyBounds {
  maxBytes: number;
  /** This request's share of the memory cap; the caller releases it when the request ends. */
  memory: MemoryLease;
  /** How long the whole body may take to arrive. */
  timeoutMs: number;
}

export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
}

export function readRequestBody(request: BodySource, bounds: BodyBounds): Promise<BodyRead> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (declared > bounds.maxBytes) return Promise.resolve({ kind: 'too-large' });
  // A declared length is leased whole before reading: a body that cannot fit is refused at once,
  // and concurrent bodies cannot each take a part of the cap and all fail.
  if (declared > 0 && !bounds.memory.hold(declared)) return Promise.resolve({ kind: 'over-capacity' });
  return new Promise<BodyRead>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: BodyRead | Error): void => {
      clearTimeout(deadline);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const stop = (outcome: UnreadBody): void => {
      request.pause();
      finish(outcome);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > bounds.maxBytes) return stop({ kind: 'too-large' });
      if (!bounds.memory.hold(size)) return stop({ kind: 'over-capacity' });
      chunks.push(chunk);
    };
    const onEnd = (): void => finish({ kind: 'complete', bytes: Buffer.concat(chunks, size) });
    const onError = (error: Error): void =>
      finish(new RequestAbortedError(`reading the request body failed: ${error.message}`, { cause: error }));
    const onClose = (): void =>
      finish(new RequestAbortedError('the client closed the request before its end'));
    const deadline = setTimeout(() => stop({ kind: 'timed-out' }), bounds.timeoutMs);
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onError);
    request.once('close', onClose);
  });
}
