import { isIP } from 'node:net';
import { DEFAULT_POLICY_TIMEOUT_SECONDS } from '@castellan/proto';
import { EnvReader } from '@castellan/service-host';
import type { Environment, ServiceConfig } from '@castellan/service-host';
import { GatewayError, GatewayErrorCode } from './errors.js';

/** Defaults of the gateway's configuration (documented in services/gateway/README.md). */
export const DEFAULT_GATEWAY_PORT = 8443;
export const DEFAULT_GATEWAY_ADDRESS = '0.0.0.0';
export const DEFAULT_READINESS_PORT = 8081;

export interface GatewayConfig extends ServiceConfig {
  /** Address both listeners bind. */
  readonly address: string;
  /** HTTPS port of the webhook endpoints; 0 picks a free one. */
  readonly port: number;
  /** Plain-HTTP port of `/readiness` and `/metrics`; 0 picks a free one. */
  readonly readinessPort: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  /** When not empty, every client must present a certificate signed by one of these CAs. */
  readonly clientCaFiles: readonly string[];
  /** Requests for objects in this namespace are admitted without evaluation (spec §6.5 step 0). */
  readonly alwaysAcceptNamespace: string | undefined;
  readonly defaultTimeoutSeconds: number;
}

/** Reads the `CASTELLAN_*` variables once, reporting every problem together. */
export function loadGatewayConfig(env: Environment): GatewayConfig {
  const reader = new EnvReader(env);
  const { problems } = reader;
  const address = reader.string('CASTELLAN_GATEWAY_ADDRESS', DEFAULT_GATEWAY_ADDRESS);
  if (isIP(address) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(address)) {
    problems.push(`CASTELLAN_GATEWAY_ADDRESS must be an IP address or a host name (got "${address}")`);
  }
  const gatewayPort = reader.port('CASTELLAN_GATEWAY_PORT', DEFAULT_GATEWAY_PORT);
  const readinessPort = reader.port('CASTELLAN_READINESS_PORT', DEFAULT_READINESS_PORT);
  if (gatewayPort !== 0 && gatewayPort === readinessPort) {
    problems.push(
      `CASTELLAN_GATEWAY_PORT and CASTELLAN_READINESS_PORT must differ (both are ${gatewayPort})`,
    );
  }
  const tlsCertFile = reader.required('CASTELLAN_TLS_CERT_FILE', 'the path of a PEM file');
  const tlsKeyFile = reader.required('CASTELLAN_TLS_KEY_FILE', 'the path of a PEM file');
  const clientCaFiles = (reader.optional('CASTELLAN_CLIENT_CA_FILE') ?? '')
    .split(',')
    .map((path) => path.trim())
    .filter((path) => path !== '');

  const namespace = reader.optional('CASTELLAN_ALWAYS_ACCEPT_NAMESPACE');
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    problems.push(
      `CASTELLAN_ALWAYS_ACCEPT_NAMESPACE must be a Kubernetes namespace name (got "${namespace}")`,
    );
  }
  const defaultTimeoutSeconds = reader.positiveInteger(
    'CASTELLAN_DEFAULT_TIMEOUT_SECONDS',
    DEFAULT_POLICY_TIMEOUT_SECONDS,
  );
  const service = reader.serviceConfig();
  reader.check('gateway', (message) => new GatewayError(GatewayErrorCode.ConfigInvalid, message));
  return Object.freeze({
    address,
    port: gatewayPort,
    readinessPort,
    tlsCertFile,
    tlsKeyFile,
    clientCaFiles: Object.freeze(clientCaFiles),
    alwaysAcceptNamespace: namespace,
    defaultTimeoutSeconds,
    ...service,
  });
}
