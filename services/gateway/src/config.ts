import { isIP } from 'node:net';
import { DEFAULT_POLICY_TIMEOUT_SECONDS } from '@castellan/proto';
import { EnvReader } from '@castellan/service-host';
import type { Environment, ServiceConfig } from '@castellan/service-host';
import { MAX_ADMISSION_BODY_BYTES } from './admission-body.js';
import { GatewayError, GatewayErrorCode } from './errors.js';

/** Defaults of the gateway's configuration (documented in services/gateway/README.md). */
export const DEFAULT_GATEWAY_PORT = 8443;
export const DEFAULT_GATEWAY_ADDRESS = '0.0.0.0';
export const DEFAULT_READINESS_PORT = 8081;
/** The API server sends a whole review in milliseconds, and gives up on the call after 10 s by default. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Sized for the 512 Mi container limit: a buffered review costs several times its bytes (README). */
export const DEFAULT_MAX_REQUEST_BYTES_IN_FLIGHT = 64 * 1024 * 1024;
/** Rides out a NATS server restart or a client moving to another cluster node. */
export const DEFAULT_NATS_DOWN_GRACE_MS = 2_000;

export interface GatewayConfig extends ServiceConfig {
  /** Address the webhook listener binds. */
  readonly address: string;
  /** HTTPS port of the webhook endpoints; 0 picks a free one. */
  readonly port: number;
  /** Address the `/readiness` and `/metrics` listener binds. */
  readonly readinessAddress: string;
  /** Plain-HTTP port of `/readiness` and `/metrics`; 0 picks a free one. */
  readonly readinessPort: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  /** When not empty, every client must present a certificate signed by one of these CAs. */
  readonly clientCaFiles: readonly string[];
  /**
   * Requests for objects in this namespace are admitted without evaluation
   * (docs/kubewarden-compatibility.md#response-processing, step 0).
   */
  readonly alwaysAcceptNamespace: string | undefined;
  readonly defaultTimeoutSeconds: number;
  /** How long a request's headers, and then its body, may take to arrive. */
  readonly requestTimeoutMs: number;
  /** Request-body bytes held in memory across every request in flight. */
  readonly maxRequestBytesInFlight: number;
  /** How long the NATS connection may stay down before `/readiness` fails. */
  readonly natsDownGraceMs: number;
}

/** Reads the `CASTELLAN_*` variables once, reporting every problem together. */
export function loadGatewayConfig(env: Environment): GatewayConfig {
  const reader = new EnvReader(env);
  const { problems } = reader;
  const address = readHost(reader, 'CASTELLAN_GATEWAY_ADDRESS', DEFAULT_GATEWAY_ADDRESS);
  const readinessAddress = readHost(reader, 'CASTELLAN_READINESS_ADDRESS', address);
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
  const requestTimeoutMs = reader.positiveInteger('CASTELLAN_REQUEST_TIMEOUT_MS', DEFAULT_REQUEST_TIMEOUT_MS);
  const maxRequestBytesInFlight = reader.positiveInteger(
    'CASTELLAN_MAX_REQUEST_BYTES_IN_FLIGHT',
    DEFAULT_MAX_REQUEST_BYTES_IN_FLIGHT,
  );
  if (maxRequestBytesInFlight < MAX_ADMISSION_BODY_BYTES) {
    problems.push(
      `CASTELLAN_MAX_REQUEST_BYTES_IN_FLIGHT must be at least ${MAX_ADMISSION_BODY_BYTES}, the largest body the API server sends (got "${maxRequestBytesInFlight}")`,
    );
  }
  const natsDownGraceMs = reader.positiveInteger('CASTELLAN_NATS_DOWN_GRACE_MS', DEFAULT_NATS_DOWN_GRACE_MS);
  const service = reader.serviceConfig();
  reader.check('gateway', (message) => new GatewayError(GatewayErrorCode.ConfigInvalid, message));
  return Object.freeze({
    address,
    port: gatewayPort,
    readinessAddress,
    readinessPort,
    tlsCertFile,
    tlsKeyFile,
    clientCaFiles: Object.freeze(clientCaFiles),
    alwaysAcceptNamespace: namespace,
    defaultTimeoutSeconds,
    requestTimeoutMs,
    maxRequestBytesInFlight,
    natsDownGraceMs,
    ...service,
  });
}

function readHost(reader: EnvReader, name: string, fallback: string): string {
  const host = reader.string(name, fallback);
  if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) {
    reader.problems.push(`${name} must be an IP address or a host name (got "${host}")`);
  }
  return host;
}
