import { X509Certificate, createPrivateKey } from 'node:crypto';
import { certificateDnsNames, certificateIpAddresses } from '@castellan/pki';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Why a certificate must be replaced: `broken` when it is unusable, not merely due for renewal. */
export interface CertificateFault {
  reason: string;
  broken: boolean;
}

/** A certificate and its key as read from a Secret, either possibly missing. */
export interface StoredPair {
  certPem: string | undefined;
  keyPem: string | undefined;
}

/** When the checks run and how early a certificate is renewed. */
export interface CheckTime {
  now: Date;
  renewBeforeDays: number;
}

function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function keyMatches(certificate: X509Certificate, keyPem: string): boolean {
  try {
    return certificate.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

const broken = (reason: string): CertificateFault => ({ reason, broken: true });

/** A certificate with its key, both present and parsable, the key matching; else what is wrong. */
function readPair(pair: StoredPair, [certKey, keyKey]: [string, string]): X509Certificate | CertificateFault {
  if (pair.certPem === undefined) return broken(`${certKey} is missing`);
  if (pair.keyPem === undefined) return broken(`${keyKey} is missing`);
  const certificate = parseCertificate(pair.certPem);
  if (!certificate) return broken(`${certKey} is not a PEM certificate`);
  if (!keyMatches(certificate, pair.keyPem)) return broken(`${keyKey} is not the private key of ${certKey}`);
  return certificate;
}

/** Not yet valid, or expiring within the renewal window, at `time.now`. */
function validityFault(
  certificate: X509Certificate,
  name: string,
  time: CheckTime,
): CertificateFault | undefined {
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  if (notBefore > time.now) return broken(`${name} is not valid before ${notBefore.toISOString()}`);
  if (notAfter.getTime() - time.now.getTime() <= time.renewBeforeDays * DAY_MS) {
    return {
      reason: `${name} expires at ${notAfter.toISOString()}, within ${time.renewBeforeDays} days`,
      broken: false,
    };
  }
  return undefined;
}

/**
 * Why the CA (`ca.crt`, `ca.key`) cannot go on signing: missing, unparsable, a key that is not its
 * own, not a P-256 CA certificate (the only kind the reconciler can sign with), or expiring soon.
 */
export function authorityFault(pair: StoredPair, time: CheckTime): CertificateFault | undefined {
  const certificate = readPair(pair, ['ca.crt', 'ca.key']);
  if (!(certificate instanceof X509Certificate)) return certificate;
  if (!certificate.ca) return broken('ca.crt is not a CA certificate');
  if (certificate.publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    return broken('ca.crt is not an ECDSA P-256 certificate');
  return validityFault(certificate, 'ca.crt', time);
}

/**
 * Why the serving certificate (`tls.crt`, `tls.key`) must be re-issued: missing, unparsable, a key
 * that is not its own, not signed by the current CA, not valid now or expiring soon, or for other
 * hosts than `hosts` (DNS names and IP addresses, each compared as a set).
 */
export function servingCertificateFault(
  pair: StoredPair,
  authorityPem: string,
  hosts: GatewayHosts,
  time: CheckTime,
): CertificateFault | undefined {
  const certificate = readPair(pair, ['tls.crt', 'tls.key']);
  if (!(certificate instanceof X509Certificate)) return certificate;
  const authority = new X509Certificate(authorityPem);
  if (!certificate.checkIssued(authority) || !certificate.verify(authority.publicKey)) {
    return { reason: 'tls.crt was not issued by the current CA', broken: false };
  }
  const fault = validityFault(certificate, 'tls.crt', time);
  if (fault) return fault;
  const pem = certificate.toString();
  const names = hostList({ dnsNames: certificateDnsNames(pem), ipAddresses: certificateIpAddresses(pem) });
  const wanted = hostList(hosts);
  if (names.join(',') !== wanted.join(',')) {
    return { reason: `tls.crt names [${names.join(', ')}] instead of [${wanted.join(', ')}]`, broken: false };
  }
  return undefined;
}

/** The hosts a serving certificate is for: what the API server may dial the gateway as. */
export interface GatewayHosts {
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
}

/** DNS names, then IP addresses, each sorted without repeats. */
function hostList(hosts: GatewayHosts): string[] {
  const sorted = (values: readonly string[]) => [...new Set(values)].sort();
  return [...sorted(hosts.dnsNames), ...sorted(hosts.ipAddresses)];
}

/** Why a previous CA kept for rotation (`old-ca.crt`) should be dropped: unparsable or expired. */
export function previousAuthorityFault(certPem: string, now: Date): CertificateFault | undefined {
  const certificate = parseCertificate(certPem);
  if (!certificate) return broken('old-ca.crt is not a PEM certificate');
  const notAfter = new Date(certificate.validTo);
  if (notAfter <= now) return { reason: `old-ca.crt expired at ${notAfter.toISOString()}`, broken: false };
  return undefined;
}
