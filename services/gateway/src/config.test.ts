import { describe, expect, it } from 'vitest';
import { BUS_ACCESS_CONFIG, BUS_ACCESS_ENV } from '../../../test/fixtures/bus-access.js';
import { loadGatewayConfig } from './config.js';
import { GatewayError, GatewayErrorCode } from './errors.js';

const required = {
  ...BUS_ACCESS_ENV,
  CASTELLAN_TLS_CERT_FILE: '/tls/tls.crt',
  CASTELLAN_TLS_KEY_FILE: '/tls/tls.key',
};

function problemsOf(env: Record<string, string>): string {
  try {
    loadGatewayConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe(GatewayErrorCode.ConfigInvalid);
    return (error as GatewayError).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadGatewayConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadGatewayConfig(required)).toEqual({
      address: '0.0.0.0',
      port: 8443,
      readinessAddress: '0.0.0.0',
      readinessPort: 8081,
      tlsCertFile: '/tls/tls.crt',
      tlsKeyFile: '/tls/tls.key',
      clientCaFiles: [],
      alwaysAcceptNamespace: undefined,
      defaultTimeoutSeconds: 2,
      requestTimeoutMs: 10_000,
      maxRequestBytesInFlight: 64 * 1024 * 1024,
      natsDownGraceMs: 2_000,
      natsUrl: 'nats://127.0.0.1:4222',
      ...BUS_ACCESS_CONFIG,
      jetstreamReplicas: 1,
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    const config = loadGatewayConfig({
      ...required,
      CASTELLAN_GATEWAY_ADDRESS: '0.0.0.0',
      CASTELLAN_GATEWAY_PORT: '0',
      CASTELLAN_READINESS_ADDRESS: '127.0.0.1',
      CASTELLAN_READINESS_PORT: '0',
      CASTELLAN_CLIENT_CA_FILE: ' /ca/a.pem, /ca/b.pem ,',
      CASTELLAN_ALWAYS_ACCEPT_NAMESPACE: 'kube-system',
      CASTELLAN_DEFAULT_TIMEOUT_SECONDS: '5',
      CASTELLAN_REQUEST_TIMEOUT_MS: '3000',
      CASTELLAN_MAX_REQUEST_BYTES_IN_FLIGHT: '16777216',
      CASTELLAN_NATS_DOWN_GRACE_MS: '500',
      CASTELLAN_NATS_URL: 'nats://a:4222,tls://b:4222',
      CASTELLAN_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      address: '0.0.0.0',
      port: 0,
      readinessAddress: '127.0.0.1',
      readinessPort: 0,
      clientCaFiles: ['/ca/a.pem', '/ca/b.pem'],
      alwaysAcceptNamespace: 'kube-system',
      defaultTimeoutSeconds: 5,
      requestTimeoutMs: 3_000,
      maxRequestBytesInFlight: 16 * 1024 * 1024,
      natsDownGraceMs: 500,
      natsUrl: 'nats://a:4222,tls://b:4222',
      logLevel: 'debug',
    });
  });

  it('binds /readiness and /metrics where the webhooks are unless told otherwise', () => {
    expect(loadGatewayConfig({ ...required, CASTELLAN_GATEWAY_ADDRESS: '127.0.0.1' })).toMatchObject({
      address: '127.0.0.1',
      readinessAddress: '127.0.0.1',
    });
  });

  it('freezes the result', () => {
    const config = loadGatewayConfig(required);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.clientCaFiles)).toBe(true);
  });

  it('treats empty variables as unset', () => {
    expect(
      loadGatewayConfig({ ...required, CASTELLAN_GATEWAY_PORT: '', CASTELLAN_LOG_LEVEL: ' ' }).port,
    ).toBe(8443);
  });

  it('reports every problem together', () => {
    const message = problemsOf({
      CASTELLAN_GATEWAY_ADDRESS: 'not an address',
      CASTELLAN_READINESS_ADDRESS: 'http://localhost',
      CASTELLAN_GATEWAY_PORT: '70000',
      CASTELLAN_READINESS_PORT: '-1',
      CASTELLAN_ALWAYS_ACCEPT_NAMESPACE: 'Kube_System',
      CASTELLAN_DEFAULT_TIMEOUT_SECONDS: '1.5',
      CASTELLAN_REQUEST_TIMEOUT_MS: '0',
      CASTELLAN_MAX_REQUEST_BYTES_IN_FLIGHT: '1048576',
      CASTELLAN_NATS_DOWN_GRACE_MS: '2s',
      CASTELLAN_NATS_URL: 'http://nats:4222/path',
      CASTELLAN_LOG_LEVEL: 'verbose',
    });
    for (const expected of [
      'CASTELLAN_GATEWAY_ADDRESS must be an IP address or a host name (got "not an address")',
      'CASTELLAN_READINESS_ADDRESS must be an IP address or a host name (got "http://localhost")',
      'CASTELLAN_GATEWAY_PORT must be a port number between 0 and 65535 (got "70000")',
      'CASTELLAN_READINESS_PORT must be a port number between 0 and 65535 (got "-1")',
      'CASTELLAN_TLS_CERT_FILE is required',
      'CASTELLAN_TLS_KEY_FILE is required',
      'CASTELLAN_ALWAYS_ACCEPT_NAMESPACE must be a Kubernetes namespace name (got "Kube_System")',
      'CASTELLAN_DEFAULT_TIMEOUT_SECONDS must be a positive integer (got "1.5")',
      'CASTELLAN_REQUEST_TIMEOUT_MS must be a positive integer (got "0")',
      'CASTELLAN_MAX_REQUEST_BYTES_IN_FLIGHT must be at least 3145728, the largest body the API server sends (got "1048576")',
      'CASTELLAN_NATS_DOWN_GRACE_MS must be a positive integer (got "2s")',
      'CASTELLAN_NATS_URL must list NATS servers like nats://host:4222 (got "http://nats:4222/path")',
      'CASTELLAN_LOG_LEVEL must be one of',
    ]) {
      expect(message).toContain(expected);
    }
  });

  it('refuses the same fixed port for both listeners', () => {
    expect(
      problemsOf({ ...required, CASTELLAN_GATEWAY_PORT: '9000', CASTELLAN_READINESS_PORT: '9000' }),
    ).toContain('must differ');
  });

  it('refuses a zero default timeout', () => {
    expect(problemsOf({ ...required, CASTELLAN_DEFAULT_TIMEOUT_SECONDS: '0' })).toContain(
      'CASTELLAN_DEFAULT_TIMEOUT_SECONDS',
    );
  });
});
