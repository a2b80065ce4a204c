import { X509Certificate } from 'node:crypto';
import { certificateDnsNames } from '@castellan/pki';
import { decode } from '@nats-io/jwt';
import type { Operator } from '@nats-io/jwt';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBusAuthority } from './authority.js';
import type { BusAuthority } from './authority.js';
import { ClusterBusSecretName, credentialsSecretName, prepareClusterBus } from './cluster-bus.js';
import type { ClusterBusSecret } from './cluster-bus.js';
import { credentialsMismatch, inspectBusCredentials } from './issued-credentials.js';

const options = { namespace: 'team-x', natsService: 'bus', natsReplicas: 2 };

describe('prepareClusterBus', () => {
  let secrets: ClusterBusSecret[];
  let authority: BusAuthority;
  let server: Readonly<Record<string, string>>;
  const secret = (name: string) => {
    const found = secrets.find((s) => s.name === name);
    if (!found) throw new Error(`no Secret ${name}`);
    return found.data;
  };

  beforeAll(async () => {
    secrets = await prepareClusterBus(options);
    authority = parseBusAuthority(secret(ClusterBusSecretName.Authority)['authority.json'] ?? '', 'test');
    server = secret(ClusterBusSecretName.Server);
  });

  it('names the authority, the server and the three operator-supplied credentials, with their keys', () => {
    expect(secrets.map((s) => [s.name, Object.keys(s.data).sort()])).toEqual([
      ['castellan-nats-authority', ['authority.json']],
      ['castellan-nats-server', ['auth.conf', 'ca.crt', 'routes-tls.conf', 'tls.crt', 'tls.key']],
      ['castellan-nats-creds-gateway', ['ca.crt', 'nats.creds']],
      ['castellan-nats-creds-fetcher', ['ca.crt', 'nats.creds']],
      ['castellan-nats-creds-reconciler', ['ca.crt', 'nats.creds']],
    ]);
  });

  it('locks the server to the operator of the authority, with TLS files where the Secret is mounted', () => {
    const auth = server['auth.conf'] ?? '';
    const operatorJwt = /^operator: (\S+)$/m.exec(auth)?.[1] ?? '';
    const operator = decode<Operator>(operatorJwt);
    expect(operator.nats.type).toBe('operator');
    expect(auth).toMatch(/^resolver: MEMORY$/m);
    expect(auth).toContain('cert_file: "/etc/nats/tls.crt"');
    expect(auth).toContain('key_file: "/etc/nats/tls.key"');
    expect(auth).toContain('ca_file: "/etc/nats/ca.crt"');
    expect(auth).toContain('verify: false');
    // Routes: both ends present a certificate of the CA and check the other's.
    expect(server['routes-tls.conf']).toContain('verify: true');
    expect(server['routes-tls.conf']).toContain('ca_file: "/etc/nats/ca.crt"');
  });

  it('writes the TLS paths under another mount directory when asked', async () => {
    const [, moved] = await prepareClusterBus({ ...options, configDir: '/srv/nats' });
    expect(moved?.data['auth.conf']).toContain('cert_file: "/srv/nats/tls.crt"');
  });

  it('issues a server certificate of the CA for the Service, every route name and localhost', () => {
    const certificate = new X509Certificate(server['tls.crt'] ?? '');
    expect(certificate.checkIssued(new X509Certificate(server['ca.crt'] ?? ''))).toBe(true);
    expect(certificateDnsNames(server['tls.crt'] ?? '')).toEqual([
      'bus',
      'bus.team-x',
      'bus.team-x.svc',
      'bus.team-x.svc.cluster.local',
      'bus-0.bus-headless',
      'bus-1.bus-headless',
      '*.bus-headless.team-x.svc',
      '*.bus-headless.team-x.svc.cluster.local',
      'localhost',
    ]);
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it.each([
    ['castellan-nats-creds-gateway', { role: 'gateway' } as const],
    ['castellan-nats-creds-fetcher', { role: 'fetcher' } as const],
    ['castellan-nats-creds-reconciler', { role: 'control' } as const],
  ])('puts credentials of exactly its identity in %s, with the CA', async (name, identity) => {
    const data = secret(name);
    const credentials = await inspectBusCredentials(data['nats.creds'] ?? '');
    expect(credentials).toBeDefined();
    expect(credentialsMismatch(credentials!, authority, identity)).toBeUndefined();
    expect(credentialsMismatch(credentials!, authority, { role: 'evaluator', pool: 'default' })).toMatch(
      /^they are those of castellan-/,
    );
    expect(data['ca.crt']).toBe(server['ca.crt']);
  });

  it('creates new keys every time: running it again rotates everything', async () => {
    const again = await prepareClusterBus(options);
    expect(again[0]?.data['authority.json']).not.toBe(
      secret(ClusterBusSecretName.Authority)['authority.json'],
    );
    expect(again[1]?.data['ca.crt']).not.toBe(server['ca.crt']);
  });
});

describe('credentialsSecretName', () => {
  it('names the reconciler for the control identity and the pool for an evaluator', () => {
    expect(credentialsSecretName({ role: 'control' })).toBe('castellan-nats-creds-reconciler');
    expect(credentialsSecretName({ role: 'evaluator', pool: 'tenant-a' })).toBe(
      'castellan-nats-creds-evaluator-tenant-a',
    );
  });
});
