import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateExpiry, createCertificateAuthority, issueCertificate } from '@castellan/pki';

/** Certificates younger than this are reused across runs, so a pasted CA path keeps working. */
const RENEW_BEFORE_DAYS = 7;
const DAY_MS = 86_400_000;

export interface GatewayTlsFiles {
  caPath: string;
  certPath: string;
  keyPath: string;
}

/** A local CA and the gateway's certificate for localhost/127.0.0.1, created once in `dir`. */
export async function ensureGatewayTls(dir: string): Promise<GatewayTlsFiles> {
  const files = {
    caPath: join(dir, 'ca.pem'),
    certPath: join(dir, 'gateway.pem'),
    keyPath: join(dir, 'gateway-key.pem'),
  };
  if (await stillValid(files.certPath)) return files;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority({ commonName: 'castellan-local-ca', validityDays: 365 });
  const serving = await issueCertificate(ca, {
    commonName: 'castellan-gateway',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    validityDays: 90,
  });
  await writeFile(files.caPath, ca.certPem);
  await writeFile(files.keyPath, serving.keyPem, { mode: 0o600 });
  await writeFile(files.certPath, serving.certPem);
  return files;
}

async function stillValid(certPath: string): Promise<boolean> {
  try {
    const expiry = certificateExpiry(await readFile(certPath, 'utf8'));
    return expiry.getTime() - Date.now() > RENEW_BEFORE_DAYS * DAY_MS;
  } catch {
    return false;
  }
}
