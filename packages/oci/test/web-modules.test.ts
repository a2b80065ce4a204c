import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyPath } from '../../../test/fixtures/index.js';
import { createTestCertificates } from '../../../test/harness/pki.js';
import type { TestCertificates } from '../../../test/harness/pki.js';
import { ModuleDistributionClient, OciErrorCode } from '../src/index.js';
import type { ModuleDistributionOptions } from '../src/index.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let dir: string;
let pki: TestCertificates;
let module: Uint8Array;
let httpsServer: Server;
let httpServer: Server;
let httpsHost: string;
let httpHost: string;
let flakyRequests = 0;

function serve(request: IncomingMessage, response: ServerResponse): void {
  switch (request.url) {
    case '/policy.wasm':
      response.writeHead(200, { 'content-length': module.byteLength }).end(module);
      return;
    case '/old/policy.wasm':
      response.writeHead(302, { location: '/policy.wasm' }).end();
      return;
    case '/streamed.wasm':
      // No Content-Length: only counting while streaming can enforce the limit.
      response.writeHead(200);
      response.write(module);
      response.end(module);
      return;
    case '/readme.txt':
      response.writeHead(200).end('not a module');
      return;
    case '/flaky.wasm':
      flakyRequests++;
      if (flakyRequests === 1) response.writeHead(503).end('busy');
      else response.writeHead(200).end(module);
      return;
    default:
      response.writeHead(404).end();
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'castellan-web-modules-'));
  pki = await createTestCertificates({ dir });
  const file = await readFile(policyPath('pod-privileged'));
  module = new Uint8Array(file);
  httpsServer = createHttpsServer(
    { cert: await readFile(pki.certPath), key: await readFile(pki.keyPath) },
    serve,
  );
  httpServer = createHttpServer(serve);
  [httpsHost, httpHost] = await Promise.all([listen(httpsServer), listen(httpServer)]);
});
afterAll(async () => {
  await Promise.all(
    [httpsServer, httpServer].map((server) => new Promise((resolve) => server?.close(resolve))),
  );
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function withClient<T>(
  options: ModuleDistributionOptions,
  body: (client: ModuleDistributionClient) => Promise<T>,
): Promise<T> {
  const client = new ModuleDistributionClient({ retry: { attempts: 2, baseDelayMs: 10 }, ...options });
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

const trusted = (): ModuleDistributionOptions => ({
  sources: { insecureSources: [], sourceAuthorities: { [httpsHost]: [pki.caPem] } },
});

describe('https://, http:// and file:// modules', () => {
  it('downloads over HTTPS with the CA from source_authorities, reporting progress', async () => {
    const progress: [number, number | undefined][] = [];
    const downloaded = await withClient(trusted(), (client) =>
      client.download(`https://${httpsHost}/policy.wasm`, {
        onProgress: (received, total) => progress.push([received, total]),
      }),
    );
    expect(downloaded).toEqual({
      bytes: module,
      sha256: sha256(module),
      canonicalUrl: `https://${httpsHost}/policy.wasm`,
    });
    expect(progress[0]).toEqual([0, module.byteLength]);
    expect(progress.at(-1)).toEqual([module.byteLength, module.byteLength]);
  });

  it('follows redirects and retries a 503', async () => {
    await withClient(trusted(), async (client) => {
      expect((await client.download(`https://${httpsHost}/old/policy.wasm`)).bytes).toEqual(module);
      expect((await client.download(`https://${httpsHost}/flaky.wasm`)).bytes).toEqual(module);
      expect(flakyRequests).toBe(2);
    });
  });

  it('fails on an unknown CA, and succeeds for an insecure source', async () => {
    await withClient({}, async (client) => {
      await expect(client.download(`https://${httpsHost}/policy.wasm`)).rejects.toMatchObject({
        code: OciErrorCode.TlsFailed,
      });
    });
    const insecure = { sources: { insecureSources: [httpsHost], sourceAuthorities: {} } };
    await withClient(insecure, async (client) => {
      expect((await client.download(`https://${httpsHost}/policy.wasm`)).bytes).toEqual(module);
    });
  });

  it('enforces the size limit while streaming, the Wasm magic, and 404', async () => {
    await withClient({ ...trusted(), maxModuleBytes: module.byteLength + 10 }, async (client) => {
      await expect(client.download(`https://${httpsHost}/streamed.wasm`)).rejects.toMatchObject({
        code: OciErrorCode.TooLarge,
        message: expect.stringContaining(
          `is larger than ${module.byteLength + 10} bytes, the module size limit`,
        ) as string,
      });
      await expect(client.download(`https://${httpsHost}/readme.txt`)).rejects.toMatchObject({
        code: OciErrorCode.InvalidWasm,
      });
      await expect(client.download(`https://${httpsHost}/missing.wasm`)).rejects.toMatchObject({
        code: OciErrorCode.NotFound,
        message: expect.stringContaining(
          `server ${httpsHost} has no https://${httpsHost}/missing.wasm`,
        ) as string,
      });
    });
  });

  it('downloads plain http:// URLs as given', async () => {
    const downloaded = await withClient({}, (client) => client.download(`http://${httpHost}/policy.wasm`));
    expect(downloaded.sha256).toBe(sha256(module));
  });

  it('reads file:// modules in place', async () => {
    const url = pathToFileURL(policyPath('pod-privileged')).href;
    await withClient({}, async (client) => {
      expect(await client.resolve(url)).toEqual({ scheme: 'file', canonicalUrl: url });
      expect((await client.download(url)).bytes).toEqual(module);
      await expect(client.download('file:///nonexistent/policy.wasm')).rejects.toMatchObject({
        code: OciErrorCode.FileUnreadable,
        message: 'cannot read policy module /nonexistent/policy.wasm: no such file',
      });
    });
    await withClient({ maxModuleBytes: 10 }, async (client) => {
      await expect(client.download(url)).rejects.toMatchObject({ code: OciErrorCode.TooLarge });
    });
  });
});
