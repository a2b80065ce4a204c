import { OciError, OciErrorCode } from './errors.js';

/** Called as bytes arrive; `totalBytes` is undefined when the server did not say. */
export type ProgressListener = (receivedBytes: number, totalBytes: number | undefined) => void;

/** How TOO_LARGE errors name the limit on modules (the client's `maxModuleBytes`). */
export const MODULE_SIZE_LIMIT = 'module size limit';

export interface ReceiveOptions {
  /** Refuse more than this many bytes, before buffering them. */
  limit: number;
  /** The announced size (a descriptor's size or Content-Length), checked against the limit up front. */
  totalBytes: number | undefined;
  /** Name the content and the limit in a TOO_LARGE error: "module …", "module size limit". */
  what: string;
  limitName: string;
  onProgress?: ProgressListener | undefined;
}

/** Buffers a response body, enforcing the size limit while streaming. */
export async function receiveBody(
  body: AbandonableBody & AsyncIterable<Uint8Array>,
  options: ReceiveOptions,
): Promise<Uint8Array> {
  const { limit, totalBytes, what } = options;
  const tooLarge = (size: string) =>
    new OciError(OciErrorCode.TooLarge, `${what} ${size} ${limit} bytes, the ${options.limitName}`);
  if (totalBytes !== undefined && totalBytes > limit) {
    abandon(body);
    throw tooLarge(`is ${totalBytes} bytes, more than`);
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  options.onProgress?.(0, totalBytes);
  for await (const chunk of body) {
    received += chunk.byteLength;
    if (received > limit) {
      abandon(body);
      throw tooLarge('is larger than');
    }
    chunks.push(chunk);
    options.onProgress?.(received, totalBytes);
  }
  return concatBytes(chunks, received);
}

/** A response body we may stop reading. */
export interface AbandonableBody {
  on(event: 'error', listener: (error: Error) => void): unknown;
  destroy(): void;
}

/**
 * Stops reading a body and closes its connection. undici reports the abort as an 'error' event,
 * which would be an uncaught exception without a listener.
 */
export function abandon(body: AbandonableBody): void {
  body.on('error', () => undefined);
  body.destroy();
}

function concatBytes(chunks: Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The Content-Length of a response, when present and valid. */
export function contentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
