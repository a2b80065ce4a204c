import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireBinary } from './binaries.js';
import { createTestCertificates } from './pki.js';
import { freeLoopbackPort, startProcess, waitUntilReady } from './processes.js';

const run = promisify(execFile);

/** Another process may take the free port between probing it and the registry binding it. */
const PORT_ATTEMPTS = 3;

export interface RegistryOptions {
  /** Serve HTTPS with a certificate signed by a throwaway CA (`caPem`, `caPath`). */
  tls?: boolean;
  /** Require HTTP basic authentication with these credentials (htpasswd, bcrypt). */
  auth?: { username: string; password: string };
}

/** A running Debian `docker-registry` on a loopback port, storing into a temp dir. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`, as it appears in references and in sources.yml. */
  host: string;
  caPem?: string;
  caPath?: string;
  username?: string;
  password?: string;
  /** Root of the registry's filesystem storage. */
  storageDir: string;
  /** Path of a blob's content inside the storage, for tests that tamper with it. */
  blobDataPath(digest: string): string;
  /** Stops the registry and deletes its files; safe to call twice. */
  stop(): Promise<void>;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const binary = await requireBinary('docker-registry');
  const dir = await mkdtemp(join(tmpdir(), 'castellan-registry-'));
  try {
    const storageDir = join(dir, 'storage');
    const certificates = options.tls ? await createTestCertificates({ dir }) : undefined;
    const htpasswdPath = options.auth ? await writeHtpasswd(dir, options.auth) : undefined;
    const configPath = join(dir, 'config.yml');

    for (let attempt = 1; ; attempt++) {
      const host = `127.0.0.1:${await freeLoopbackPort()}`;
      await writeFile(configPath, registryConfig({ host, storageDir, tls: certificates, htpasswdPath }));
      const server = startProcess(binary, ['serve', configPath]);
      try {
        // docker-registry answers 401 to every request when auth is on, `GET /v2/` included.
        await waitUntilReady(server, 'docker-registry', async () => {
          const status = await probe(host, certificates?.caPem);
          return status === 200 || status === 401;
        });
      } catch (error) {
        await server.stop();
        if (attempt < PORT_ATTEMPTS && server.output().includes('address already in use')) continue;
        throw error;
      }
      let stopped: Promise<void> | undefined;
      return {
        host,
        storageDir,
        ...(certificates && { caPem: certificates.caPem, caPath: certificates.caPath }),
        ...(options.auth && { username: options.auth.username, password: options.auth.password }),
        blobDataPath: (digest) => blobDataPath(storageDir, digest),
        stop: () => (stopped ??= server.stop().then(() => rm(dir, { recursive: true, force: true }))),
      };
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function blobDataPath(storageDir: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

function registryConfig(options: {
  host: string;
  storageDir: string;
  tls: { certPath: string; keyPath: string } | undefined;
  htpasswdPath: string | undefined;
}): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(options.storageDir)}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${options.host}`,
    '  secret: castellan-test-secret',
  ];
  if (options.tls) {
    lines.push(
      '  tls:',
      `    certificate: ${JSON.stringify(options.tls.certPath)}`,
      `    key: ${JSON.stringify(options.tls.keyPath)}`,
    );
  }
  if (options.htpasswdPath) {
    lines.push(
      'auth:',
      '  htpasswd:',
      '    realm: castellan-test',
      `    path: ${JSON.stringify(options.htpasswdPath)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function writeHtpasswd(dir: string, auth: { username: string; password: string }): Promise<string> {
  const htpasswd = await requireBinary('htpasswd');
  // docker-registry only accepts bcrypt entries.
  const { stdout } = await run(htpasswd, ['-Bbn', auth.username, auth.password]);
  const path = join(dir, 'htpasswd');
  await writeFile(path, stdout);
  return path;
}

/** The status of `GET /v2/`, or undefined while nothing answers. */
function probe(host: string, caPem: string | undefined): Promise<number | undefined> {
  const url = `${caPem ? 'https' : 'http'}://${host}/v2/`;
  return new Promise((resolve) => {
    const onResponse = (response: IncomingMessage) => {
      response.resume();
      resolve(response.statusCode);
    };
    const request = caPem ? httpsGet(url, { ca: caPem }, onResponse) : httpGet(url, onResponse);
    request.on('error', () => resolve(undefined));
  });
}
