import { createCertificateAuthority, issueCertificate } from '@castellan/pki';
import type { CertificateAndKey } from '@castellan/pki';

const CA_VALIDITY_DAYS = 3650;
/** A year: the server certificate is issued again before then (castellan up: at every start). */
const SERVER_CERTIFICATE_VALIDITY_DAYS = 365;

/** The CA that signs NATS server certificates; clients verify the servers with it. */
export function createNatsCertificateAuthority(): Promise<CertificateAndKey> {
  return createCertificateAuthority({ commonName: 'castellan-nats-ca', validityDays: CA_VALIDITY_DAYS });
}

/**
 * A NATS server's certificate for the names clients and routes dial. Usage 'peer': a server also
 * dials the routes to the other servers of its cluster with it.
 */
export function issueNatsServerCertificate(
  ca: CertificateAndKey,
  names: { dnsNames: string[]; ipAddresses: string[] },
): Promise<CertificateAndKey> {
  return issueCertificate(ca, {
    commonName: 'castellan-nats',
    ...names,
    validityDays: SERVER_CERTIFICATE_VALIDITY_DAYS,
    usage: 'peer',
  });
}
