/** Starts a gateway on 127.0.0.1 with free ports, a throwaway CA and a serving certificate. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { buildGateway, loadGatewayConfig } from '../src/index.js';
import type {
  EvaluationDispatcher,
  Gateway,
  GatewayDependencies,
  GatewayPorts,
  PolicyRoutes,
} from '../src/index.js';
import { getPlain } from './clients.js';
import { BUS_ACCESS_ENV } from '../../../test/fixtures/bus-access.js';
import { createTestCertificates } from '../../../test/harness/pki.js';
import type { TestCertificates } from '../../../test/harness/pki.js';

export interface RunningGateway {
  gateway: Gateway;
  dir: string;
  certificates: TestCertificates;
  port: number;
  readinessPort: number;
  /** Where the listeners are bound, as `listen()` reports it. */
  bound: GatewayPorts;
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
    // Required by the configuration even where a dispatcher in process stands in for NATS.
    ...BUS_ACCESS_ENV,
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
  const bound = await gateway.listen();
  const { port, readinessPort } = bound;
  return {
    gateway,
    dir,
    certificates,
    port,
    readinessPort,
    bound,
    url: (path) => `https://127.0.0.1:${port}${path}`,
    readinessUrl: (path) => `http://127.0.0.1:${readinessPort}${path}`,
    async close() {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `castellan_gateway_request_body_bytes` as the gateway's `/metrics` reports it now. */
export async function heldRequestBodyBytes(running: RunningGateway): Promise<number> {
  const { text } = await getPlain(running.readinessUrl('/metrics'));
  return Number(/^castellan_gateway_request_body_bytes (\d+)$/m.exec(text)?.[1]);
}
