import { describe, expect, it } from 'vitest';
import { createBusAuthority, issueBusCredentials } from './authority.js';
import { credentialsMismatch, inspectBusCredentials } from './issued-credentials.js';

const authority = createBusAuthority();
const pool = { role: 'evaluator', pool: 'tenant-a' } as const;

describe('inspectBusCredentials', () => {
  it('reads the name, issuer, dates and permissions of credentials Castellan issued', async () => {
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 30 * 86_400_000);
    const before = Math.floor(Date.now() / 1000) * 1000;
    const credentials = await inspectBusCredentials(
      await issueBusCredentials(authority, pool, { expiresAt }),
    );
    expect(credentials).toMatchObject({
      name: 'castellan-evaluator-tenant-a',
      expiresAt,
      seedMatches: true,
      subscribe: ['castellan.eval.tenant-a.> tenant-a', '_INBOX.evaluator.tenant-a.>'],
    });
    expect(credentials?.issuedAt.getTime()).toBeGreaterThanOrEqual(before);
    const forever = await inspectBusCredentials(await issueBusCredentials(authority, pool));
    expect(forever?.expiresAt).toBeUndefined();
  });

  it('refuses what is not a creds file, and a JWT whose signature does not verify', async () => {
    expect(await inspectBusCredentials('')).toBeUndefined();
    expect(await inspectBusCredentials('-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n')).toBe(
      undefined,
    );
    const creds = await issueBusCredentials(authority, pool);
    const tampered = creds.replace(
      /(-----BEGIN NATS USER JWT-----\n[^.]+\.)([^.]+)/,
      (_, head: string, body: string) => {
        const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as { name: string };
        claims.name = 'castellan-evaluator-default';
        return `${head}${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      },
    );
    expect(tampered).not.toBe(creds);
    expect(await inspectBusCredentials(tampered)).toBeUndefined();
  });
});

describe('credentialsMismatch', () => {
  it('accepts credentials of the identity and authority, and says what differs otherwise', async () => {
    const credentials = await inspectBusCredentials(await issueBusCredentials(authority, pool));
    if (!credentials) throw new Error('not readable');
    expect(credentialsMismatch(credentials, authority, pool)).toBeUndefined();
    expect(credentialsMismatch(credentials, authority, { role: 'evaluator', pool: 'default' })).toBe(
      'they are those of castellan-evaluator-tenant-a, not castellan-evaluator-default',
    );
    expect(credentialsMismatch(credentials, createBusAuthority(), pool)).toBe(
      'they were signed by another authority',
    );
    expect(credentialsMismatch({ ...credentials, seedMatches: false }, authority, pool)).toBe(
      'their seed is not the key their JWT was issued to',
    );
    expect(
      credentialsMismatch({ ...credentials, publish: [...credentials.publish, '>'] }, authority, pool),
    ).toBe('their permissions are not those castellan-evaluator-tenant-a has now');
  });

  it('notices a seed swapped for another user’s', async () => {
    const mine = await issueBusCredentials(authority, pool);
    const other = await issueBusCredentials(authority, pool);
    const seed = (creds: string) => /-----BEGIN USER NKEY SEED-----\n(\S+)\n/.exec(creds)?.[1] ?? '';
    const swapped = mine.replace(seed(mine), seed(other));
    const credentials = await inspectBusCredentials(swapped);
    expect(credentials?.seedMatches).toBe(false);
  });
});
