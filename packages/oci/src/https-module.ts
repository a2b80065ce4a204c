import { contentLength, MODULE_SIZE_LIMIT, receiveBody } from './body-reader.js';
import type { ProgressListener } from './body-reader.js';
import { header } from './http-transport.js';
import type { HttpTransport } from './http-transport.js';
import { assertWasmMagic } from './wasm-magic.js';

/**
 * Downloads a module from an `https://` or `http://` URL, following redirects, with the same
 * sources rules (CAs, insecure fallbacks), size limit and Wasm check as registry pulls.
 */
export async function downloadHttpModule(
  transport: HttpTransport,
  url: URL,
  options: { limit: number; onProgress?: ProgressListener | undefined },
): Promise<Uint8Array> {
  const bytes = await transport.send(
    { method: 'GET', url, expect: [200], subject: { kind: 'url', url: url.href }, followRedirects: true },
    (response) =>
      receiveBody(response.body, {
        limit: options.limit,
        totalBytes: contentLength(header(response, 'content-length')),
        what: `module ${url.href}`,
        limitName: MODULE_SIZE_LIMIT,
        onProgress: options.onProgress,
      }),
  );
  assertWasmMagic(bytes, url.href);
  return bytes;
}
