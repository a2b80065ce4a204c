import { credentialsMismatch, inspectBusCredentials, parseBusAuthority } from '@castellan/bus-auth';
import { certificateDnsNames } from '@castellan/pki';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { castellan } from './castellan-process.js';

interface SecretManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  type: string;
  data: Record<string, string>;
}

describe('castellan bus-secrets', () => {
  it('prints the five Secrets of a locked bus for the namespace and Service given', async () => {
    const result = await castellan(
      'bus-secrets',
      '--namespace',
      'team-x',
      '--nats-service',
      'bus',
      '--nats-replicas',
      '1',
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const secrets = parseAllDocuments(result.stdout).map((document) => document.toJS() as SecretManifest);
    expect(secrets.map((s) => [s.kind, s.metadata.namespace, s.metadata.name, s.type])).toEqual([
      ['Secret', 'team-x', 'castellan-nats-authority', 'Opaque'],
      ['Secret', 'team-x', 'castellan-nats-server', 'Opaque'],
      ['Secret', 'team-x', 'castellan-nats-creds-gateway', 'Opaque'],
      ['Secret', 'team-x', 'castellan-nats-creds-fetcher', 'Opaque'],
      ['Secret', 'team-x', 'castellan-nats-creds-reconciler', 'Opaque'],
    ]);
    const text = (name: string, key: string) =>
      Buffer.from(secrets.find((s) => s.metadata.name === name)?.data[key] ?? '', 'base64').toString();

    const authority = parseBusAuthority(text('castellan-nats-authority', 'authority.json'), 'stdout');
    expect(text('castellan-nats-server', 'auth.conf')).toMatch(/^operator: \S+\nsystem_account: /);
    expect(text('castellan-nats-server', 'auth.conf')).toContain('cert_file: "/etc/nats/tls.crt"');
    expect(certificateDnsNames(text('castellan-nats-server', 'tls.crt'))).toEqual(
      expect.arrayContaining(['bus', 'bus.team-x.svc', 'bus-0.bus-headless', '*.bus-headless.team-x.svc']),
    );
    const gateway = await inspectBusCredentials(text('castellan-nats-creds-gateway', 'nats.creds'));
    expect(gateway && credentialsMismatch(gateway, authority, { role: 'gateway' })).toBeUndefined();
    expect(text('castellan-nats-creds-gateway', 'ca.crt')).toBe(text('castellan-nats-server', 'ca.crt'));
    // The output holds private keys; it says so before anything else.
    expect(result.stdout).toMatch(/^# Castellan NATS bus Secrets .* They hold private keys/);
  });

  it('refuses a replica count or a namespace Kubernetes would not take, in one line', async () => {
    const replicas = await castellan('bus-secrets', '--nats-replicas', '0');
    expect(replicas.code).toBe(1);
    expect(replicas.stdout).toBe('');
    expect(replicas.stderr.split('\n')[0]).toBe(
      "error: option '--nats-replicas <count>' argument '0' is invalid. must be a positive integer",
    );
    const namespace = await castellan('bus-secrets', '--namespace', 'Team_X');
    expect(namespace.code).toBe(1);
    expect(namespace.stderr.split('\n')[0]).toMatch(/argument 'Team_X' is invalid. must be a DNS label/);
  });

  it('describes itself and its options in --help', async () => {
    const help = await castellan('bus-secrets', '--help');
    expect(help.code).toBe(0);
    for (const option of ['--namespace', '--nats-service', '--nats-replicas'])
      expect(help.stdout).toContain(option);
    expect(help.stdout).toContain('kubectl apply -f -');
  });
});
