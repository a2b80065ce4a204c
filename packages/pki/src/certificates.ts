// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Clocks of the apiserver and the gateway may disagree a little. */
const BACKDATE_MS = 5 * 60 * 1000;

/** A certificate and its private key, PEM-encoded (the key as PKCS #8). */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface AuthorityOptions {
  commonName: string;
  validityDays: number;
  /** When validity starts (less a small backdate); default now. For callers that keep their own clock. */
  issuedAt?: Date;
}

export interface LeafOptions {
  commonName: string;
  /** Subject O= entries: a Kubernetes client certificate's groups. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  validityDays: number;
  /**
   * What the certificate is for: a TLS server (default), a TLS client, or a peer that is both (a
   * NATS node, which serves clients and dials routes to other nodes).
   */
  usage?: 'server' | 'client' | 'peer';
  /** When validity starts (less a small backdate); default now. */
  issuedAt?: Date;
}

/** A self-signed ECDSA P-256 certificate authority. */
export async function createCertificateAuthority({
  commonName,
  validityDays,
  issuedAt,
}: AuthorityOptions): Promise<CertificateAndKey> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: ALGORITHM,
    ...validity(validityDays, issuedAt),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: certificate.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

/** An ECDSA P-256 certificate signed by `authority`, for the given names. */
export async function issueCertificate(
  authority: CertificateAndKey,
  options: LeafOptions,
): Promise<CertificateAndKey> {
  const issuer = new x509.X509Certificate(authority.certPem);
  const signingKey = await importKey(authority.keyPem);
  const keys = await generateKeys();
  const names: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const certificate = await x509.X509CertificateGenerator.create({
    subject: [{ CN: [options.commonName] }, ...(options.organizations ?? []).map((o) => ({ O: [o] }))],
    issuer: issuer.subject,
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: ALGORITHM,
    ...validity(options.validityDays, options.issuedAt),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(extendedKeyUsages(options.usage ?? 'server')),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(issuer),
    ],
  });
  return { certPem: certificate.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

function extendedKeyUsages(usage: NonNullable<LeafOptions['usage']>): x509.ExtendedKeyUsageType[] {
  const { serverAuth, clientAuth } = x509.ExtendedKeyUsage;
  return { server: [serverAuth], client: [clientAuth], peer: [serverAuth, clientAuth] }[usage];
}

/** When the (first) certificate in a PEM stops being valid. */
export function certificateExpiry(certPem: string): Date {
  return new x509.X509Certificate(certPem).notAfter;
}

/** The DNS names in a certificate's subjectAltName extension, in the order they appear. */
export function certificateDnsNames(certPem: string): string[] {
  return subjectAltNames(certPem, 'dns');
}

/** The IP addresses in a certificate's subjectAltName extension, in the order they appear. */
export function certificateIpAddresses(certPem: string): string[] {
  return subjectAltNames(certPem, 'ip');
}

function subjectAltNames(certPem: string, type: 'dns' | 'ip'): string[] {
  const names = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension)?.names;
  return (names?.items ?? []).filter((name) => name.type === type).map((name) => name.value);
}

function validity(days: number, issuedAt = new Date()): { notBefore: Date; notAfter: Date } {
  const now = issuedAt.getTime();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  const [der] = x509.PemConverter.decode(pem);
  if (!der) throw new Error('the authority key PEM holds no key');
  return crypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
}
