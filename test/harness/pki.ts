import { writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate } from '@castellan/pki';

/** A throwaway CA and a server certificate it signed, as PEM files in `dir`. */
export interface TestCertificates {
  caPem: string;
  caPath: string;
  certPath: string;
  keyPath: string;
}

/** A CA and a server certificate for `hosts` (IP addresses and DNS names; default 127.0.0.1 and localhost). */
export async function createTestCertificates(options: {
  dir: string;
  hosts?: string[];
}): Promise<TestCertificates> {
  const hosts = options.hosts ?? ['127.0.0.1', 'localhost'];
  const authority = await createCertificateAuthority({ commonName: 'Castellan Test CA', validityDays: 1 });
  const server = await issueCertificate(authority, {
    commonName: hosts[0] ?? 'localhost',
    ipAddresses: hosts.filter((host) => isIP(host) !== 0),
    dnsNames: hosts.filter((host) => isIP(host) === 0),
    validityDays: 1,
  });
  const caPath = join(options.dir, 'ca.pem');
  const certPath = join(options.dir, 'server.pem');
  const keyPath = join(options.dir, 'server-key.pem');
  await Promise.all([
    writeFile(caPath, authority.certPem),
    writeFile(certPath, server.certPem),
    writeFile(keyPath, server.keyPem, { mode: 0o600 }),
  ]);
  return { caPem: authority.certPem, caPath, certPath, keyPath };
}
