import { createBusAuthority, inspectBusCredentials, issueBusCredentials } from '@castellan/bus-auth';
import type { V1Secret } from '@kubernetes/client-node';
import { Secret } from 'kubernetes-models/v1/Secret';
import { describe, expect, it } from 'vitest';
import {
  EVALUATOR_CREDENTIALS_VALIDITY_DAYS,
  poolCredentialsOf,
  renewalReason,
} from './evaluator-credentials.js';
import type { PoolCredentialsOptions } from './evaluator-credentials.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_PEM = '-----BEGIN CERTIFICATE-----\nnats-ca\n-----END CERTIFICATE-----\n';
const authority = createBusAuthority();
/** The clock starts now: the JWT's issue time is the real one. */
const start = new Date();
const options: PoolCredentialsOptions = {
  pool: 'tenant-a',
  namespace: 'castellan',
  authority,
  caPem: CA_PEM,
  owner: { apiVersion: 'policies.castellan.dev/v1', kind: 'PolicyServer', name: 'tenant-a', uid: 'uid-a' },
  now: start,
};
const after = (days: number) => new Date(start.getTime() + days * DAY_MS);
/** JWT times are whole seconds. */
const inSeconds = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000);

const text = (secret: V1Secret, key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString();

/** The Secret as the API server returns it: its own metadata and fields added. */
function stored(secret: V1Secret): V1Secret {
  return {
    ...structuredClone(secret),
    metadata: { ...secret.metadata, uid: 'secret-uid', resourceVersion: '7', creationTimestamp: start },
  };
}

describe('poolCredentialsOf', () => {
  it('issues credentials of exactly the pool, for 30 days, in a Secret owned by its PolicyServer', async () => {
    const { secret, expiresAt, issuedBecause } = await poolCredentialsOf(undefined, options);
    expect(issuedBecause).toBe('the Secret does not exist');
    expect(expiresAt).toStrictEqual(inSeconds(after(EVALUATOR_CREDENTIALS_VALIDITY_DAYS)));
    expect(secret.metadata).toStrictEqual({
      name: 'castellan-nats-creds-evaluator-tenant-a',
      namespace: 'castellan',
      labels: {
        'app.kubernetes.io/part-of': 'castellan',
        'app.kubernetes.io/component': 'evaluator',
        'app.kubernetes.io/managed-by': 'castellan-reconciler',
        'castellan.dev/pool': 'tenant-a',
      },
      ownerReferences: [{ ...options.owner, controller: true, blockOwnerDeletion: true }],
    });
    expect(secret.type).toBe('Opaque');
    expect(Object.keys(secret.data ?? {}).sort()).toStrictEqual(['ca.crt', 'nats.creds']);
    expect(text(secret, 'ca.crt')).toBe(CA_PEM);
    const credentials = await inspectBusCredentials(text(secret, 'nats.creds'));
    expect(credentials).toMatchObject({ name: 'castellan-evaluator-tenant-a', expiresAt });
    expect(credentials?.subscribe).toContain('castellan.eval.tenant-a.> tenant-a');
    expect(() => new Secret(secret as never).validate()).not.toThrow();
  });

  it('keeps the credentials it finds while two thirds of their life remain: the Secret is unchanged', async () => {
    const first = await poolCredentialsOf(undefined, options);
    for (const days of [0, 1, 19]) {
      const again = await poolCredentialsOf(stored(first.secret), { ...options, now: after(days) });
      expect(again.issuedBecause, `day ${days}`).toBeUndefined();
      expect(again.secret).toStrictEqual(first.secret);
      expect(again.expiresAt).toStrictEqual(first.expiresAt);
    }
  });

  it('issues new credentials once less than a third of their life is left, or after they expired', async () => {
    const first = await poolCredentialsOf(undefined, options);
    for (const days of [21, 45]) {
      const renewed = await poolCredentialsOf(stored(first.secret), { ...options, now: after(days) });
      expect(renewed.issuedBecause).toMatch(/^they expire at .*, with less than a third of their life left$/);
      expect(renewed.expiresAt).toStrictEqual(inSeconds(after(days + EVALUATOR_CREDENTIALS_VALIDITY_DAYS)));
      expect(text(renewed.secret, 'nats.creds')).not.toBe(text(first.secret, 'nats.creds'));
    }
  });

  it('changes only ca.crt when the NATS CA changed', async () => {
    const first = await poolCredentialsOf(undefined, options);
    const newCa = '-----BEGIN CERTIFICATE-----\nrotated\n-----END CERTIFICATE-----\n';
    const updated = await poolCredentialsOf(stored(first.secret), { ...options, caPem: newCa });
    expect(updated.issuedBecause).toBeUndefined();
    expect(text(updated.secret, 'nats.creds')).toBe(text(first.secret, 'nats.creds'));
    expect(text(updated.secret, 'ca.crt')).toBe(newCa);
  });

  it("replaces another pool's credentials, another authority's, and ones that never expire", async () => {
    const withCreds = async (creds: string) => {
      const { secret } = await poolCredentialsOf(undefined, options);
      return stored({
        ...secret,
        data: { ...secret.data, 'nats.creds': Buffer.from(creds).toString('base64') },
      });
    };
    const cases: [string, string][] = [
      [
        await issueBusCredentials(
          authority,
          { role: 'evaluator', pool: 'default' },
          { expiresAt: after(30) },
        ),
        'they are those of castellan-evaluator-default, not castellan-evaluator-tenant-a',
      ],
      [
        await issueBusCredentials(authority, { role: 'gateway' }, { expiresAt: after(30) }),
        'they are those of castellan-gateway, not castellan-evaluator-tenant-a',
      ],
      [
        await issueBusCredentials(
          createBusAuthority(),
          { role: 'evaluator', pool: 'tenant-a' },
          { expiresAt: after(30) },
        ),
        'they were signed by another authority',
      ],
      [await issueBusCredentials(authority, { role: 'evaluator', pool: 'tenant-a' }), 'they never expire'],
      ['not credentials', 'nats.creds is missing or its signature does not verify'],
    ];
    for (const [creds, reason] of cases) {
      const replaced = await poolCredentialsOf(await withCreds(creds), options);
      expect(replaced.issuedBecause).toBe(reason);
      expect(await inspectBusCredentials(text(replaced.secret, 'nats.creds'))).toMatchObject({
        name: 'castellan-evaluator-tenant-a',
      });
    }
  });
});

describe('renewalReason', () => {
  it('renews exactly when less than a third of the lifetime is left (injected clock)', async () => {
    const issuedAt = new Date('2030-01-01T00:00:00Z');
    const expiresAt = new Date('2030-01-31T00:00:00Z');
    const credentials = await inspectBusCredentials(
      await issueBusCredentials(authority, { role: 'evaluator', pool: 'tenant-a' }, { expiresAt }),
    );
    if (!credentials) throw new Error('not readable');
    // A lifetime of 30 days, whatever the real clock said when they were issued.
    const lived = { ...credentials, issuedAt };
    const secret = { metadata: { name: 'castellan-nats-creds-evaluator-tenant-a' } };
    const at = (iso: string) =>
      renewalReason(secret, lived, { authority, pool: 'tenant-a', now: new Date(iso) });
    expect(at('2030-01-20T23:59:59Z')).toBeUndefined();
    expect(at('2030-01-21T00:00:00Z')).toBeUndefined();
    expect(at('2030-01-21T00:00:01Z')).toBe(
      'they expire at 2030-01-31T00:00:00.000Z, with less than a third of their life left',
    );
  });
});
