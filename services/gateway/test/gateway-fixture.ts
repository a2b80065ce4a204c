/** Starts a gateway on 127.0.0.1 with free ports, a throwaway CA and a serving certificate. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { buildGateway, loadGatewayConfig } from '../src/index.js';
import type { EvaluationDispatcher, Gateway, GatewayDependencies, PolicyRoutes } from '../src/index.js';
import { createTestCertificates } from '../../../test/harness/pki.js';
import type { TestCertificates } from '../../../test/harness/pki.js';

export interface RunningGateway {
  gateway: Gateway;
  dir: string;
  certificates: TestCertificates;
  port: number;
  readinessPort: number;
  /** `https://127.0.0.1:<port><path>` */
  url(path: string): string;
  readinessUrl(path: string): string;
  close(): Promise<void>;
}

export interface GatewayFixtureOptions {
  routes: PolicyRoutes;
  dispatcher: EvaluationDispatcher;
  env?: Record<string, string>;
  isReady?: () => boolean;
  logger?: Logger;
  tlsReload?: GatewayDependencies['tlsReload'];
  /** Called with the certificate directory before the gateway starts (e.g. to add client CAs). */
  prepare?: (dir: string, certificates: TestCertificates) => Promise<Record<string, string>>;
}

export async function startGateway(options: GatewayFixtureOptions): Promise<RunningGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'castellan-gateway-'));
  const certificates = await createTestCertificates({ dir });
  const extraEnv = options.prepare === undefined ? {} : await options.prepare(dir, certificates);
  const config = loadGatewayConfig({
    CASTELLAN_GATEWAY_ADDRESS: '127.0.0.1',
    CASTELLAN_GATEWAY_PORT: '0',
    CASTELLAN_READINESS_PORT: '0',
    CASTELLAN_TLS_CERT_FILE: certificates.certPath,
    CASTELLAN_TLS_KEY_FILE: certificates.keyPath,
    ...extraEnv,
    ...options.env,
  });
  const gateway = buildGateway({
    config,
    routes: options.routes,
    dispatcher: options.dispatcher,
    logger: options.logger ?? pino({ level: 'silent' }),
    ...(options.isReady === undefined ? {} : { isReady: options.isReady }),
    ...(options.tlsReload === undefined ? {} : { tlsReload: options.tlsReload }),
  });
  const { port, readinessPort } = await gateway.listen();
  return {
    gateway,
    dir,
    certificates,
    port,
    readinessPort,
    url: (path) => `https://127.0.0.1:${port}${path}`,
    readinessUrl: (path) => `http://127.0.0.1:${readinessPort}${path}`,
    async close() {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
