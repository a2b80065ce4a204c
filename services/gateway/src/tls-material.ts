/**
 * The serving certificate, its key and the client CAs, read from PEM files and checked before use:
 * a pair that does not match, or a file caught half-written, is refused with a message naming it.
 */
import { messageOf } from '@castellan/proto';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { SecureContextOptions } from 'node:tls';
import { GatewayError, GatewayErrorCode } from './errors.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** Client CA bundles; empty when clients are not authenticated. */
  clientCaFiles: readonly string[];
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  clientCas: Buffer[];
  /** For logs: which certificate is being served. */
  description: { subject: string; serialNumber: string; validTo: string };
}

/**
 * AEAD cipher suites only: the TLS 1.3 suites (all AEAD), and for TLS 1.2 ECDHE (forward secrecy)
 * with AES-GCM or ChaCha20-Poly1305. CBC suites, open to padding-oracle and timing attacks, are
 * refused; Go's TLS client, the API server's, prefers these suites anyway.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export async function loadTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const [cert, key, clientCas] = await Promise.all([
    readPem(files.certFile),
    readPem(files.keyFile),
    Promise.all(files.clientCaFiles.map((path) => readPem(path))),
  ]);
  const certificate = parseCertificate(cert, files.certFile);
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(key))) {
      throw invalid(`the key in ${files.keyFile} does not belong to the certificate in ${files.certFile}`);
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw invalid(`${files.keyFile} is not a PEM private key: ${messageOf(error)}`, error);
  }
  clientCas.forEach((bundle, index) => checkCaBundle(bundle, files.clientCaFiles[index] ?? ''));
  const material: TlsMaterial = {
    cert,
    key,
    clientCas,
    description: {
      subject: certificate.subject,
      serialNumber: certificate.serialNumber,
      validTo: certificate.validTo,
    },
  };
  try {
    createSecureContext(secureContextOptions(material));
  } catch (error) {
    throw invalid(`OpenSSL refused the TLS material: ${messageOf(error)}`, error);
  }
  return material;
}

/** The options of both the initial server and every `setSecureContext` (which resets what it is not given). */
export function secureContextOptions(material: TlsMaterial): SecureContextOptions {
  return {
    cert: material.cert,
    key: material.key,
    ...(material.clientCas.length > 0 ? { ca: material.clientCas } : {}),
    minVersion: 'TLSv1.2',
    ciphers: TLS_CIPHERS,
  };
}

export function sameTlsMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return (
    a.cert.equals(b.cert) &&
    a.key.equals(b.key) &&
    a.clientCas.length === b.clientCas.length &&
    a.clientCas.every((ca, index) => b.clientCas[index]?.equals(ca) === true)
  );
}

async function readPem(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw invalid(`cannot read ${path}: ${messageOf(error)}`, error);
  }
}

function parseCertificate(pem: Buffer, path: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw invalid(`${path} is not a PEM certificate: ${messageOf(error)}`, error);
  }
}

function checkCaBundle(bundle: Buffer, path: string): void {
  const certificates = bundle.toString('utf8').match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) throw invalid(`${path} holds no PEM certificate`);
  for (const certificate of certificates) parseCertificate(Buffer.from(certificate), path);
}

function invalid(message: string, cause?: unknown): GatewayError {
  return new GatewayError(GatewayErrorCode.TlsMaterialInvalid, message, { cause });
}
