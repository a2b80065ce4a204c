import { isIP } from 'node:net';
import { GatewayError, GatewayErrorCode } from './errors.js';

/** Defaults of the gateway's configuration (documented in services/gateway/README.md). */
export const DEFAULT_GATEWAY_PORT = 8443;
export const DEFAULT_GATEWAY_ADDRESS = '0.0.0.0';
export const DEFAULT_READINESS_PORT = 8081;
/** Like policy-server's `--policy-timeout`: the evaluation deadline of a route that carries none. */
export const DEFAULT_TIMEOUT_SECONDS = 2;
export const DEFAULT_LOG_LEVEL = 'info';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface GatewayConfig {
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
  /** NATS servers, comma-separated (used by `main.ts`, not by `buildGateway`). */
  readonly natsUrl: string;
  readonly logLevel: LogLevel;
}

export type GatewayEnvironment = Readonly<Record<string, string | undefined>>;

/** Reads the `CASTELLAN_*` variables once, reporting every problem together. */
export function loadGatewayConfig(env: GatewayEnvironment): GatewayConfig {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const port = (name: string, fallback: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value > 65_535) {
      problems.push(`${name} must be a port number between 0 and 65535 (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const requiredPath = (name: string): string => {
    const raw = read(name);
    if (raw === undefined) problems.push(`${name} is required: the path of a PEM file`);
    return raw ?? '';
  };

  const address = read('CASTELLAN_GATEWAY_ADDRESS') ?? DEFAULT_GATEWAY_ADDRESS;
  if (isIP(address) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(address)) {
    problems.push(`CASTELLAN_GATEWAY_ADDRESS must be an IP address or a host name (got "${address}")`);
  }
  const gatewayPort = port('CASTELLAN_GATEWAY_PORT', DEFAULT_GATEWAY_PORT);
  const readinessPort = port('CASTELLAN_READINESS_PORT', DEFAULT_READINESS_PORT);
  if (gatewayPort !== 0 && gatewayPort === readinessPort) {
    problems.push(
      `CASTELLAN_GATEWAY_PORT and CASTELLAN_READINESS_PORT must differ (both are ${gatewayPort})`,
    );
  }
  const tlsCertFile = requiredPath('CASTELLAN_TLS_CERT_FILE');
  const tlsKeyFile = requiredPath('CASTELLAN_TLS_KEY_FILE');
  const clientCaFiles = (read('CASTELLAN_CLIENT_CA_FILE') ?? '')
    .split(',')
    .map((path) => path.trim())
    .filter((path) => path !== '');

  const namespace = read('CASTELLAN_ALWAYS_ACCEPT_NAMESPACE');
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    problems.push(
      `CASTELLAN_ALWAYS_ACCEPT_NAMESPACE must be a Kubernetes namespace name (got "${namespace}")`,
    );
  }

  const rawTimeout = read('CASTELLAN_DEFAULT_TIMEOUT_SECONDS');
  let defaultTimeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
  if (rawTimeout !== undefined) {
    const value = Number(rawTimeout);
    if (!/^\d+$/.test(rawTimeout) || value < 1) {
      problems.push(`CASTELLAN_DEFAULT_TIMEOUT_SECONDS must be a positive integer (got "${rawTimeout}")`);
    } else {
      defaultTimeoutSeconds = value;
    }
  }

  const natsUrl = read('CASTELLAN_NATS_URL') ?? DEFAULT_NATS_URL;
  for (const server of natsUrl.split(',')) {
    if (!/^(nats|tls|wss?):\/\/[^\s/]+$|^[^\s/:]+(:\d+)?$/.test(server.trim())) {
      problems.push(
        `CASTELLAN_NATS_URL must list NATS servers like nats://host:4222 (got "${server.trim()}")`,
      );
    }
  }

  const logLevel = read('CASTELLAN_LOG_LEVEL') ?? DEFAULT_LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`CASTELLAN_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  if (problems.length > 0) {
    throw new GatewayError(
      GatewayErrorCode.ConfigInvalid,
      `invalid gateway configuration:\n  - ${problems.join('\n  - ')}`,
    );
  }
  return Object.freeze({
    address,
    port: gatewayPort,
    readinessPort,
    tlsCertFile,
    tlsKeyFile,
    clientCaFiles: Object.freeze(clientCaFiles),
    alwaysAcceptNamespace: namespace,
    defaultTimeoutSeconds,
    natsUrl,
    logLevel: logLevel as LogLevel,
  });
}
