import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUS_ACCESS_ENV } from '../../../test/fixtures/bus-access.js';
import { createTestCertificates } from '../../../test/harness/pki.js';
import type { TestCertificates } from '../../../test/harness/pki.js';
import { GatewayError, GatewayErrorCode, buildGateway, loadGatewayConfig } from '../src/index.js';
import { loadTlsMaterial } from '../src/tls-material.js';
import { InProcessEvaluatorPool, routeTable } from './in-process-pool.js';

let dir: string;
let first: TestCertificates;
let second: TestCertificates;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'castellan-tls-material-'));
  await mkdir(join(dir, 'first'));
  await mkdir(join(dir, 'second'));
  first = await createTestCertificates({ dir: join(dir, 'first') });
  second = await createTestCertificates({ dir: join(dir, 'second') });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe('loadTlsMaterial', () => {
  it('loads a matching pair and client CAs', async () => {
    const material = await loadTlsMaterial({
      certFile: first.certPath,
      keyFile: first.keyPath,
      clientCaFiles: [first.caPath, second.caPath],
    });
    expect(material.description.subject).toBe('CN=127.0.0.1');
    expect(material.clientCas).toHaveLength(2);
  });

  it('refuses a key that does not belong to the certificate', async () => {
    const error = await refusal(
      loadTlsMaterial({ certFile: first.certPath, keyFile: second.keyPath, clientCaFiles: [] }),
    );
    expect(error.code).toBe(GatewayErrorCode.TlsMaterialInvalid);
    expect(error.message).toBe(
      `the key in ${second.keyPath} does not belong to the certificate in ${first.certPath}`,
    );
  });

  it('refuses a file that is not a certificate, and a missing file', async () => {
    const garbage = join(dir, 'garbage.pem');
    await writeFile(garbage, 'not a certificate');
    const notPem = await refusal(
      loadTlsMaterial({ certFile: garbage, keyFile: first.keyPath, clientCaFiles: [] }),
    );
    expect(notPem.message).toContain(`${garbage} is not a PEM certificate`);
    const badCa = await refusal(
      loadTlsMaterial({ certFile: first.certPath, keyFile: first.keyPath, clientCaFiles: [garbage] }),
    );
    expect(badCa.message).toBe(`${garbage} holds no PEM certificate`);
    const missing = await refusal(
      loadTlsMaterial({ certFile: join(dir, 'absent.pem'), keyFile: first.keyPath, clientCaFiles: [] }),
    );
    expect(missing.message).toContain(`cannot read ${join(dir, 'absent.pem')}`);
  });
});

describe('gateway startup failures, with an in-process evaluator pool standing in for NATS', () => {
  const build = (env: Record<string, string>) =>
    buildGateway({
      config: loadGatewayConfig({
        CASTELLAN_GATEWAY_ADDRESS: '127.0.0.1',
        CASTELLAN_GATEWAY_PORT: '0',
        CASTELLAN_READINESS_PORT: '0',
        CASTELLAN_TLS_CERT_FILE: first.certPath,
        CASTELLAN_TLS_KEY_FILE: first.keyPath,
        ...BUS_ACCESS_ENV,
        ...env,
      }),
      routes: routeTable(),
      dispatcher: new InProcessEvaluatorPool(),
      logger: pino({ level: 'silent' }),
    });

  it('refuses to listen with invalid TLS material', async () => {
    const error = await refusal(build({ CASTELLAN_TLS_KEY_FILE: second.keyPath }).listen());
    expect(error.code).toBe(GatewayErrorCode.TlsMaterialInvalid);
  });

  it('reports a port already in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const error = await refusal(build({ CASTELLAN_READINESS_PORT: String(port) }).listen());
      expect(error.code).toBe(GatewayErrorCode.ListenFailed);
      expect(error.message).toContain(`cannot listen for readiness requests on 127.0.0.1:${port}`);
    } finally {
      blocker.close();
    }
  });
});
