import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createCertificateAuthority, issueCertificate } from '@castellan/pki';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane } from '../../../test/harness/control-plane.js';
import type { ControlPlane } from '../../../test/harness/control-plane.js';
import { CertificateManager } from './certificates.js';
import type { CertificateOptions } from './certificates.js';
import { ReconcilerErrorCode } from './errors.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const SERVICE = 'castellan-gateway';
const CA_SECRET = 'castellan-ca';
const TLS_SECRET = 'castellan-gateway-tls';
const LABELS = {
  'app.kubernetes.io/part-of': 'castellan',
  'app.kubernetes.io/managed-by': 'castellan-reconciler',
};

/** A Secret as read back: the API server always sets its metadata. */
type StoredSecret = V1Secret & { metadata: V1ObjectMeta };

let cluster: ControlPlane;
let kubeConfig: KubeConfig;
/** The test's own client, for reading Secrets and planting them as another writer would. */
let core: CoreV1Api;
let namespaces = 0;

interface Fixture {
  namespace: string;
  manager: CertificateManager;
  logs: Record<string, unknown>[];
  /** The manager's clock; tests move it. */
  clock: { now: Date };
}

/** A fresh namespace and a manager for it, with a movable clock and captured logs. */
async function fixture(options: Partial<CertificateOptions> = {}): Promise<Fixture> {
  namespaces += 1;
  const namespace = `castellan-${namespaces}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const logs: Record<string, unknown>[] = [];
  const logger: Logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const clock = { now: new Date() };
  const manager = new CertificateManager({
    core: kubeConfig.makeApiClient(CoreV1Api),
    namespace,
    caSecret: CA_SECRET,
    gatewayTlsSecret: TLS_SECRET,
    gatewayService: SERVICE,
    logger,
    now: () => clock.now,
    ...options,
  });
  return { namespace, manager, logs, clock };
}

async function secret(namespace: string, name: string): Promise<StoredSecret> {
  return (await core.readNamespacedSecret({ name, namespace })) as StoredSecret;
}

/** Creates a Secret as another writer would; the API server makes it type Opaque. */
async function plantSecret(
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<StoredSecret> {
  return (await core.createNamespacedSecret({
    namespace,
    body: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data },
  })) as StoredSecret;
}

/** Replaces a Secret's data, at the resourceVersion of `current`, as another writer would. */
async function replaceData(current: StoredSecret, data: Record<string, string>): Promise<void> {
  const { name = '', namespace = '' } = current.metadata;
  await core.replaceNamespacedSecret({ name, namespace, body: { ...current, data } });
}

function pem(stored: StoredSecret, key: string): string {
  const value = stored.data?.[key];
  if (value === undefined) throw new Error(`Secret ${stored.metadata.name} has no ${key}`);
  return Buffer.from(value, 'base64').toString('utf8');
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/** Writes (not reads) the API server served on Secrets of `namespace` since request number `since`. */
async function secretWrites(namespace: string, since: number): Promise<string[]> {
  return (await cluster.requests())
    .slice(since)
    .filter((r) => r.path.startsWith(`/api/v1/namespaces/${namespace}/secrets`) && r.method !== 'GET')
    .map((r) => `${r.method} ${r.path}`);
}

function expectIssuedBy(leafPem: string, caPem: string): X509Certificate {
  const leaf = new X509Certificate(leafPem);
  const ca = new X509Certificate(caPem);
  expect(leaf.checkIssued(ca)).toBe(true);
  expect(leaf.verify(ca.publicKey)).toBe(true);
  return leaf;
}

beforeAll(async () => {
  cluster = await startControlPlane();
  kubeConfig = cluster.kubeConfig();
  core = kubeConfig.makeApiClient(CoreV1Api);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

describe('webhook certificates (real kube-apiserver)', () => {
  it('creates a P-256 CA and a serving certificate for the gateway Service from nothing', async () => {
    const { namespace, manager, logs } = await fixture();
    const tls = await manager.ensure();
    expect(tls.changed).toBe(true);

    const caSecret = await secret(namespace, CA_SECRET);
    expect(caSecret.type).toBe('Opaque');
    expect(caSecret.metadata.labels).toEqual(LABELS);
    expect(Object.keys(caSecret.data ?? {}).sort()).toEqual(['ca.crt', 'ca.key']);
    const caPem = pem(caSecret, 'ca.crt');
    // Without a rotation the bundle is exactly ca.crt.
    expect(tls.caBundlePem).toBe(caPem);
    expect(caPem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    const ca = new X509Certificate(caPem);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe('CN=castellan-ca');
    expect(ca.checkPrivateKey(createPrivateKey(pem(caSecret, 'ca.key')))).toBe(true);
    const caDays = (Date.parse(ca.validTo) - Date.now()) / DAY_MS;
    expect(caDays).toBeGreaterThan(3649);
    expect(caDays).toBeLessThanOrEqual(3650);

    const tlsSecret = await secret(namespace, TLS_SECRET);
    expect(tlsSecret.type).toBe('kubernetes.io/tls');
    expect(tlsSecret.metadata.labels).toEqual(LABELS);
    const leaf = expectIssuedBy(pem(tlsSecret, 'tls.crt'), caPem);
    expect(leaf.checkPrivateKey(createPrivateKey(pem(tlsSecret, 'tls.key')))).toBe(true);
    expect(leaf.publicKey.asymmetricKeyType).toBe('ec');
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    for (const host of [
      SERVICE,
      `${SERVICE}.${namespace}`,
      `${SERVICE}.${namespace}.svc`,
      `${SERVICE}.${namespace}.svc.cluster.local`,
    ]) {
      expect(leaf.checkHost(host)).toBe(host);
    }
    expect(leaf.checkHost(`${SERVICE}.elsewhere.svc`)).toBeUndefined();
    const leafDays = (Date.parse(leaf.validTo) - Date.now()) / DAY_MS;
    expect(leafDays).toBeGreaterThan(364);
    expect(leafDays).toBeLessThanOrEqual(365);
    expect(logs.filter((l) => String(l.msg).startsWith('creating')).map((l) => l.secret)).toEqual([
      `${namespace}/${CA_SECRET}`,
      `${namespace}/${TLS_SECRET}`,
    ]);
  });

  it('writes nothing when called again', async () => {
    const { namespace, manager } = await fixture();
    const first = await manager.ensure();
    const since = (await cluster.requests()).length;
    const second = await manager.ensure();
    expect(second).toEqual({ caBundlePem: first.caBundlePem, changed: false });
    expect(await secretWrites(namespace, since)).toEqual([]);
  });

  it('rotates a CA that expires within 60 days, keeps the old one until it expires, and re-issues the leaf', async () => {
    const { namespace, manager, clock } = await fixture();
    await manager.ensure();
    const firstCaPem = pem(await secret(namespace, CA_SECRET), 'ca.crt');
    const firstExpiry = Date.parse(new X509Certificate(firstCaPem).validTo);

    clock.now = new Date(firstExpiry - 30 * DAY_MS);
    const rotated = await manager.ensure();
    expect(rotated.changed).toBe(true);
    const caSecret = await secret(namespace, CA_SECRET);
    const newCaPem = pem(caSecret, 'ca.crt');
    expect(newCaPem).not.toBe(firstCaPem);
    expect(pem(caSecret, 'old-ca.crt')).toBe(firstCaPem);
    expect(rotated.caBundlePem).toBe(newCaPem + firstCaPem);
    expect(Date.parse(new X509Certificate(newCaPem).validTo)).toBe(clock.now.getTime() + 3650 * DAY_MS);
    const leaf = expectIssuedBy(pem(await secret(namespace, TLS_SECRET), 'tls.crt'), newCaPem);
    expect(Date.parse(leaf.validTo)).toBe(clock.now.getTime() + 365 * DAY_MS);

    const since = (await cluster.requests()).length;
    expect((await manager.ensure()).changed).toBe(false);
    expect(await secretWrites(namespace, since)).toEqual([]);

    const tlsVersion = (await secret(namespace, TLS_SECRET)).metadata.resourceVersion;
    clock.now = new Date(firstExpiry + DAY_MS);
    const dropped = await manager.ensure();
    expect(dropped).toEqual({ caBundlePem: newCaPem, changed: true });
    expect(Object.keys((await secret(namespace, CA_SECRET)).data ?? {}).sort()).toEqual(['ca.crt', 'ca.key']);
    expect((await secret(namespace, TLS_SECRET)).metadata.resourceVersion).toBe(tlsVersion);
  });

  it('repairs broken Secrets, keeping keys it does not own, and logs the repair', async () => {
    const { namespace, manager, logs } = await fixture();
    const other = await createCertificateAuthority({ commonName: 'other', validityDays: 30 });
    const stray = await createCertificateAuthority({ commonName: 'stray', validityDays: 30 });
    // A CA whose key is another CA's; a serving-certificate Secret of the wrong type with one key.
    await plantSecret(namespace, CA_SECRET, {
      'ca.crt': base64(other.certPem),
      'ca.key': base64(stray.keyPem),
      note: base64('keep me'),
    });
    const opaque = await plantSecret(namespace, TLS_SECRET, {
      'tls.crt': base64('-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n'),
    });

    const tls = await manager.ensure();
    expect(tls.changed).toBe(true);
    const caSecret = await secret(namespace, CA_SECRET);
    const caPem = pem(caSecret, 'ca.crt');
    expect(caPem).not.toBe(other.certPem);
    expect(pem(caSecret, 'note')).toBe('keep me');
    // The replaced CA was still valid: webhooks may trust it, so it stays in the bundle.
    expect(pem(caSecret, 'old-ca.crt')).toBe(other.certPem);
    const tlsSecret = await secret(namespace, TLS_SECRET);
    expect(tlsSecret.type).toBe('kubernetes.io/tls');
    expect(tlsSecret.metadata.uid).not.toBe(opaque.metadata.uid);
    expectIssuedBy(pem(tlsSecret, 'tls.crt'), caPem);
    const warnings = logs.filter((l) => l.level === 40).map((l) => [l.msg, l.reason]);
    expect(warnings).toEqual(
      expect.arrayContaining([
        ['the Secret is broken: repairing the CA', 'ca.key is not the private key of ca.crt'],
        ["the Secret is broken: repairing the gateway's serving certificate", 'tls.key is missing'],
        ['the Secret is not of type kubernetes.io/tls: recreating it', undefined],
      ]),
    );

    // An unparsable certificate in a Secret of the right type is replaced in place.
    const current = await secret(namespace, TLS_SECRET);
    await replaceData(current, { ...current.data, 'tls.crt': base64('not a certificate') });
    expect((await manager.ensure()).changed).toBe(true);
    expect((await secret(namespace, TLS_SECRET)).metadata.uid).toBe(current.metadata.uid);
    expectIssuedBy(pem(await secret(namespace, TLS_SECRET), 'tls.crt'), caPem);
    expect(logs.at(-1)).toMatchObject({ level: 40, reason: 'tls.crt is not a PEM certificate' });
  });

  it('re-issues a serving certificate whose SANs differ, leaving the CA alone', async () => {
    const { namespace, manager, logs } = await fixture();
    await manager.ensure();
    const caSecret = await secret(namespace, CA_SECRET);
    const authority = { certPem: pem(caSecret, 'ca.crt'), keyPem: pem(caSecret, 'ca.key') };
    const wrong = await issueCertificate(authority, {
      commonName: SERVICE,
      dnsNames: [SERVICE, `${SERVICE}.${namespace}.svc`],
      validityDays: 365,
    });
    const current = await secret(namespace, TLS_SECRET);
    await replaceData(current, { 'tls.crt': base64(wrong.certPem), 'tls.key': base64(wrong.keyPem) });

    const since = (await cluster.requests()).length;
    expect((await manager.ensure()).changed).toBe(true);
    expect(await secretWrites(namespace, since)).toEqual([
      `PUT /api/v1/namespaces/${namespace}/secrets/${TLS_SECRET}`,
    ]);
    const leaf = expectIssuedBy(pem(await secret(namespace, TLS_SECRET), 'tls.crt'), authority.certPem);
    expect(leaf.checkHost(`${SERVICE}.${namespace}.svc.cluster.local`)).toBeDefined();
    expect(logs.at(-1)).toMatchObject({ level: 30, msg: "renewing the gateway's serving certificate" });
    expect(String(logs.at(-1)?.reason)).toContain('instead of');
  });

  it('adds the host of the gateway URL, an IP address or a DNS name, and re-issues when the URL changes', async () => {
    const byIp = await fixture({ gatewayUrl: new URL('https://127.0.0.1:8443') });
    await byIp.manager.ensure();
    const leaf = new X509Certificate(pem(await secret(byIp.namespace, TLS_SECRET), 'tls.crt'));
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkHost(`${SERVICE}.${byIp.namespace}.svc`)).toBeDefined();
    expect((await byIp.manager.ensure()).changed).toBe(false);

    const byName = new CertificateManager({
      core: kubeConfig.makeApiClient(CoreV1Api),
      namespace: byIp.namespace,
      caSecret: CA_SECRET,
      gatewayTlsSecret: TLS_SECRET,
      gatewayService: SERVICE,
      gatewayUrl: new URL('https://gateway.example.test'),
      logger: pino({ level: 'silent' }),
    });
    expect((await byName.ensure()).changed).toBe(true);
    const renamed = new X509Certificate(pem(await secret(byIp.namespace, TLS_SECRET), 'tls.crt'));
    expect(renamed.checkHost('gateway.example.test')).toBe('gateway.example.test');
    expect(renamed.checkIP('127.0.0.1')).toBeUndefined();
  });

  it('redoes its work from a fresh read when a write meets 409, and reports a second 409 as a ReconcilerError', async () => {
    const real = kubeConfig.makeApiClient(CoreV1Api);
    let interfere = 1;
    // Another writer (the test's own client) changes the Secret between the manager's read and its replace.
    const interfering = new Proxy(real, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== 'replaceNamespacedSecret' || typeof value !== 'function') return value;
        return async (param: { name: string; namespace: string }): Promise<unknown> => {
          if (interfere > 0) {
            interfere -= 1;
            const stored = await secret(param.namespace, param.name);
            await core.replaceNamespacedSecret({
              ...param,
              body: {
                ...stored,
                metadata: { ...stored.metadata, annotations: { touched: String(Date.now()) } },
              },
            });
          }
          return (value as (p: unknown) => unknown).call(target, param);
        };
      },
    });
    const { namespace, manager } = await fixture({ core: interfering });
    await plantSecret(namespace, CA_SECRET, { 'ca.crt': base64('broken') });
    const since = (await cluster.requests()).length;
    expect((await manager.ensure()).changed).toBe(true);
    expect((await cluster.requests()).slice(since).filter((r) => r.status === 409)).toHaveLength(1);
    expect(pem(await secret(namespace, CA_SECRET), 'ca.crt')).toContain('BEGIN CERTIFICATE');
    expect((await secret(namespace, CA_SECRET)).metadata.annotations).toHaveProperty('touched');

    await replaceData(await secret(namespace, CA_SECRET), { 'ca.crt': base64('broken') });
    interfere = 2;
    const failure = await manager.ensure().catch((error: unknown) => error);
    expect(failure).toMatchObject({
      name: 'ReconcilerError',
      code: ReconcilerErrorCode.CertificateSecretFailed,
    });
    expect((failure as Error).message).toMatch(
      new RegExp(`^replacing Secret ${namespace}/${CA_SECRET} failed: HTTP 409: .*changed again`),
    );
  });
});
