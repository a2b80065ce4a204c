import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { request } from 'node:https';
import { describe, expect, it } from 'vitest';
import {
  certificateDnsNames,
  certificateIpAddresses,
  certificateExpiry,
  createCertificateAuthority,
  issueCertificate,
} from './certificates.js';

describe('certificates', () => {
  it('issues a P-256 serving certificate a TLS client accepts through its CA', async () => {
    const ca = await createCertificateAuthority({ commonName: 'castellan-ca', validityDays: 365 });
    const serving = await issueCertificate(ca, {
      commonName: 'castellan-gateway',
      dnsNames: ['localhost', 'castellan-gateway.castellan.svc'],
      ipAddresses: ['127.0.0.1'],
      validityDays: 30,
    });
    const parsed = new X509Certificate(serving.certPem);
    expect(parsed.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(parsed.subjectAltName).toContain('DNS:castellan-gateway.castellan.svc');
    expect(parsed.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(parsed.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new X509Certificate(ca.certPem).ca).toBe(true);
    expect(parsed.ca).toBe(false);
    const days = (certificateExpiry(serving.certPem).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);

    const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const body = await new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, ca: ca.certPem, servername: 'localhost' }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(text));
        })
          .on('error', reject)
          .end();
      });
      expect(body).toBe('ok');
    } finally {
      server.close();
    }
  });

  it('marks client certificates for client authentication only', async () => {
    const ca = await createCertificateAuthority({ commonName: 'ca', validityDays: 1 });
    const client = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      validityDays: 1,
      usage: 'client',
    });
    expect(new X509Certificate(client.certPem).keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });

  it('dates validity from issuedAt when given', async () => {
    const issuedAt = new Date('2035-03-01T00:00:00Z');
    const ca = await createCertificateAuthority({ commonName: 'ca', validityDays: 10, issuedAt });
    const leaf = await issueCertificate(ca, { commonName: 'leaf', validityDays: 2, issuedAt });
    expect(certificateExpiry(ca.certPem)).toEqual(new Date('2035-03-11T00:00:00Z'));
    expect(certificateExpiry(leaf.certPem)).toEqual(new Date('2035-03-03T00:00:00Z'));
    expect(new Date(new X509Certificate(leaf.certPem).validFrom).getTime()).toBeLessThan(issuedAt.getTime());
  });

  it('puts the organizations into the subject after the common name', async () => {
    const ca = await createCertificateAuthority({ commonName: 'ca', validityDays: 1 });
    const client = await issueCertificate(ca, {
      commonName: 'admin',
      organizations: ['system:masters'],
      usage: 'client',
      validityDays: 1,
    });
    expect(new X509Certificate(client.certPem).subject).toBe('CN=admin\nO=system:masters');
    const leaf = await issueCertificate(ca, { commonName: 'gateway', validityDays: 1 });
    expect(new X509Certificate(leaf.certPem).subject).toBe('CN=gateway');
  });

  it('lists the DNS names and the IP addresses of the subjectAltName apart', async () => {
    const ca = await createCertificateAuthority({ commonName: 'ca', validityDays: 1 });
    const leaf = await issueCertificate(ca, {
      commonName: 'gateway',
      dnsNames: ['gateway', 'gateway.castellan.svc'],
      ipAddresses: ['127.0.0.1'],
      validityDays: 1,
    });
    expect(certificateDnsNames(leaf.certPem)).toEqual(['gateway', 'gateway.castellan.svc']);
    expect(certificateIpAddresses(leaf.certPem)).toEqual(['127.0.0.1']);
    expect(certificateDnsNames(ca.certPem)).toEqual([]);
    expect(certificateIpAddresses(ca.certPem)).toEqual([]);
  });
});
