import type { BusTrust } from './authority.js';

/** PEM files of a TLS endpoint. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA that signed the peers' certificates (routes verify each other with it). */
  readonly caFile: string;
}

/**
 * Only AEAD suites for TLS 1.2 (TLS 1.3's are AEAD by definition, and Go does not let them be
 * configured); nats-server already refuses anything older than TLS 1.2.
 */
const CIPHER_SUITES = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
];

/** Seconds a client has to finish its TLS handshake. */
const TLS_HANDSHAKE_TIMEOUT_SECONDS = 2;

/**
 * The part of a nats-server configuration that locks it: only credentials signed by the authority
 * are accepted (no anonymous user exists), and clients must speak TLS.
 */
export function lockedServerConfig(trust: BusTrust, tls: TlsFiles): string {
  const preload = Object.entries(trust.accounts)
    .map(([key, token]) => `  ${key}: ${token}`)
    .join('\n');
  return [
    `operator: ${trust.operatorJwt}`,
    `system_account: ${trust.systemAccount}`,
    'resolver: MEMORY',
    `resolver_preload: {\n${preload}\n}`,
    `tls ${tlsBlock(tls, false)}`,
  ].join('\n');
}

/**
 * The `tls` block of a cluster's routes: both ends present a certificate of the CA and verify the
 * other's, so only Castellan's own nodes can join.
 */
export function routeTlsConfig(tls: TlsFiles): string {
  return `tls ${tlsBlock(tls, true)}`;
}

function tlsBlock(tls: TlsFiles, verifyPeers: boolean): string {
  return [
    '{',
    `  cert_file: ${JSON.stringify(tls.certFile)}`,
    `  key_file: ${JSON.stringify(tls.keyFile)}`,
    `  ca_file: ${JSON.stringify(tls.caFile)}`,
    `  verify: ${verifyPeers}`,
    `  timeout: ${TLS_HANDSHAKE_TIMEOUT_SECONDS}`,
    `  cipher_suites: [${CIPHER_SUITES.map((suite) => JSON.stringify(suite)).join(', ')}]`,
    '}',
  ].join('\n');
}
