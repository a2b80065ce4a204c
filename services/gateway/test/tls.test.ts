import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podRequest } from '../../../test/fixtures/index.js';
import { createTestCertificates } from '../../../test/harness/pki.js';
import type { TestCertificates } from '../../../test/harness/pki.js';
import { createClientCertificates } from './client-certificates.js';
import type { ClientCertificates } from './client-certificates.js';
import { http1, http2, parseJson } from './clients.js';
import type { Answer, TlsClientOptions } from './clients.js';
import { eventually } from './eventually.js';
import { startGateway } from './gateway-fixture.js';
import type { RunningGateway } from './gateway-fixture.js';
import { InProcessEvaluatorPool, policyRoute, routeTable } from './in-process-pool.js';

const pool = new InProcessEvaluatorPool().set('allow-all', {
  kind: 'policy',
  validate: () => ({ accepted: true }),
});
const routes = routeTable(policyRoute('allow-all'));
const body = JSON.stringify({ request: podRequest({ uid: 'tls-uid' }) });
const fastReload = { debounceMs: 50, pollIntervalMs: 60_000 };

async function serialOf(certPath: string): Promise<string> {
  return new X509Certificate(await readFile(certPath)).serialNumber;
}

describe('gateway TLS, with an in-process evaluator pool standing in for NATS', () => {
  describe('cipher suites', () => {
    let gateway: RunningGateway;

    beforeAll(async () => {
      gateway = await startGateway({ routes, dispatcher: pool });
    });

    afterAll(async () => {
      await gateway?.close();
    });

    // The serving certificate's key is ECDSA P-256: these are the CBC suites it could otherwise use.
    it.each(['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384'])(
      'refuses a TLS 1.2 client that offers only the CBC suite %s',
      async (ciphers) => {
        const tls = { ca: gateway.certificates.caPem, ciphers, maxVersion: 'TLSv1.2' } as const;
        await expect(http1(gateway.url('/validate/allow-all'), tls, { body })).rejects.toThrow(
          /handshake failure/,
        );
        await expect(http2(gateway.url('/validate/allow-all'), tls, { body })).rejects.toThrow(
          /handshake failure/,
        );
      },
    );

    it.each(['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'])(
      'answers a TLS 1.2 client that offers only the AEAD suite %s',
      async (ciphers) => {
        const tls = { ca: gateway.certificates.caPem, ciphers, maxVersion: 'TLSv1.2' } as const;
        const answer = await http1(gateway.url('/validate/allow-all'), tls, { body });
        expect(answer.status).toBe(200);
        expect((parseJson(answer) as { response: unknown }).response).toEqual({
          uid: 'tls-uid',
          allowed: true,
          auditAnnotations: null,
          warnings: null,
        });
      },
    );
  });

  describe('client-certificate authentication', () => {
    let gateway: RunningGateway;
    let client: ClientCertificates;
    let stranger: ClientCertificates;
    let server: TlsClientOptions;

    beforeAll(async () => {
      gateway = await startGateway({
        routes,
        dispatcher: pool,
        tlsReload: fastReload,
        prepare: async (dir) => {
          await mkdir(join(dir, 'client'));
          await mkdir(join(dir, 'stranger'));
          client = await createClientCertificates(join(dir, 'client'));
          stranger = await createClientCertificates(join(dir, 'stranger'), 'intruder');
          return { CASTELLAN_CLIENT_CA_FILE: client.caPath };
        },
      });
      server = { ca: gateway.certificates.caPem };
    });

    afterAll(async () => {
      await gateway?.close();
    });

    it('refuses a client without a certificate', async () => {
      await expect(http1(gateway.url('/validate/allow-all'), server, { body })).rejects.toThrow(
        /certificate required/,
      );
      await expect(http2(gateway.url('/validate/allow-all'), server, { body })).rejects.toThrow(
        /certificate required/,
      );
    });

    it('refuses a client certificate from another CA', async () => {
      const tls = { ...server, cert: stranger.cert, key: stranger.key };
      await expect(http1(gateway.url('/validate/allow-all'), tls, { body })).rejects.toThrow(
        /unknown ca|socket hang up/,
      );
    });

    it('answers a client certificate signed by the client CA, over HTTP/1.1 and HTTP/2', async () => {
      const tls = { ...server, cert: client.cert, key: client.key };
      expect((await http1(gateway.url('/validate/allow-all'), tls, { body })).status).toBe(200);
      expect((await http2(gateway.url('/validate/allow-all'), tls, { body })).status).toBe(200);
    });

    it('reloads the client CA when its file changes', async () => {
      await copyFile(stranger.caPath, client.caPath);
      const strangerTls = { ...server, cert: stranger.cert, key: stranger.key };
      await eventually(async () => {
        try {
          return (await http1(gateway.url('/validate/allow-all'), strangerTls, { body })).status === 200;
        } catch {
          return false;
        }
      });
      const formerTls = { ...server, cert: client.cert, key: client.key };
      await expect(http1(gateway.url('/validate/allow-all'), formerTls, { body })).rejects.toThrow(
        /unknown ca|socket hang up/,
      );
    });
  });

  describe('hot reload of the serving certificate', () => {
    let gateway: RunningGateway;
    let next: TestCertificates;
    let trustBoth: TlsClientOptions;

    beforeAll(async () => {
      gateway = await startGateway({ routes, dispatcher: pool, tlsReload: fastReload });
      await mkdir(join(gateway.dir, 'next'));
      next = await createTestCertificates({ dir: join(gateway.dir, 'next') });
      trustBoth = { ca: [gateway.certificates.caPem, next.caPem] };
    });

    afterAll(async () => {
      await gateway?.close();
    });

    const servedSerial = async (): Promise<string> =>
      (await http1(gateway.url('/validate/allow-all'), trustBoth, { body })).peer.serialNumber;

    it('serves a rewritten certificate to new connections without a restart', async () => {
      const first = await serialOf(gateway.certificates.certPath);
      expect(await servedSerial()).toBe(first);

      // Key first, then certificate: in between the pair does not match and must be ignored.
      await copyFile(next.keyPath, gateway.certificates.keyPath);
      await copyFile(next.certPath, gateway.certificates.certPath);
      const second = await serialOf(next.certPath);
      expect(second).not.toBe(first);
      await eventually(async () => (await servedSerial()) === second);

      const overHttp2: Answer = await http2(gateway.url('/validate/allow-all'), trustBoth, { body });
      expect(overHttp2.status).toBe(200);
      expect(overHttp2.peer.serialNumber).toBe(second);
    });

    it('keeps the previous certificate when the new files are invalid', async () => {
      const served = await servedSerial();
      await writeFile(gateway.certificates.certPath, '-----BEGIN CERTIFICATE-----\nhalf written');
      await sleep(300);
      expect(await servedSerial()).toBe(served);
      await copyFile(next.certPath, gateway.certificates.certPath);
    });
  });

  describe('hot reload through a Kubernetes Secret volume (..data symlink swap)', () => {
    let gateway: RunningGateway;
    let secretDir: string;
    let trustBoth: TlsClientOptions;

    async function writeVersion(version: string, certificates: TestCertificates): Promise<void> {
      const versionDir = join(secretDir, version);
      await mkdir(versionDir);
      await copyFile(certificates.certPath, join(versionDir, 'tls.crt'));
      await copyFile(certificates.keyPath, join(versionDir, 'tls.key'));
    }

    beforeAll(async () => {
      gateway = await startGateway({
        routes,
        dispatcher: pool,
        tlsReload: fastReload,
        prepare: async (dir, certificates) => {
          secretDir = join(dir, 'secret');
          await mkdir(secretDir);
          await writeVersion('..2026_11_01_v1', certificates);
          await symlink('..2026_11_01_v1', join(secretDir, '..data'));
          await symlink('..data/tls.crt', join(secretDir, 'tls.crt'));
          await symlink('..data/tls.key', join(secretDir, 'tls.key'));
          return {
            CASTELLAN_TLS_CERT_FILE: join(secretDir, 'tls.crt'),
            CASTELLAN_TLS_KEY_FILE: join(secretDir, 'tls.key'),
          };
        },
      });
      trustBoth = { ca: [gateway.certificates.caPem] };
    });

    afterAll(async () => {
      await gateway?.close();
    });

    it('serves the new certificate once the kubelet swaps ..data', async () => {
      const first = await serialOf(gateway.certificates.certPath);
      const answer = await http1(gateway.url('/validate/allow-all'), trustBoth, { body });
      expect(answer.peer.serialNumber).toBe(first);

      await mkdir(join(gateway.dir, 'rotated'));
      const rotated = await createTestCertificates({ dir: join(gateway.dir, 'rotated') });
      trustBoth = { ca: [gateway.certificates.caPem, rotated.caPem] };
      await writeVersion('..2026_11_02_v2', rotated);
      await symlink('..2026_11_02_v2', join(secretDir, '..data_tmp'));
      await rename(join(secretDir, '..data_tmp'), join(secretDir, '..data'));
      await rm(join(secretDir, '..2026_11_01_v1'), { recursive: true });

      const second = await serialOf(rotated.certPath);
      await eventually(
        async () =>
          (await http1(gateway.url('/validate/allow-all'), trustBoth, { body })).peer.serialNumber === second,
      );
    });
  });
});
