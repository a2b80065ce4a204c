import { decode } from '@nats-io/jwt';
import type { User } from '@nats-io/jwt';
import { describe, expect, it } from 'vitest';
import {
  busTrust,
  createBusAuthority,
  issueBusCredentials,
  parseBusAuthority,
  serializeBusAuthority,
} from './authority.js';
import { BusAuthErrorCode } from './errors.js';

const userClaims = (creds: string) => {
  const token = /-----BEGIN NATS USER JWT-----\n(.+)\n/.exec(creds)?.[1] ?? '';
  return decode<User>(token);
};

describe('the bus authority', () => {
  it('round-trips through its file and refuses anything but its three seeds', () => {
    const authority = createBusAuthority();
    expect(parseBusAuthority(serializeBusAuthority(authority), 'authority.json')).toEqual(authority);
    expect(() => parseBusAuthority('{', 'a.json')).toThrow(
      expect.objectContaining({ code: BusAuthErrorCode.AuthorityInvalid }) as Error,
    );
    expect(() =>
      parseBusAuthority(JSON.stringify({ ...authority, accountSeed: authority.operatorSeed }), 'a.json'),
    ).toThrow(
      'the NATS signing keys in a.json cannot be used: accountSeed must be an nkey seed starting with SA',
    );
  });

  it('tells nats-server to trust one operator, its system account and the Castellan account', async () => {
    const trust = await busTrust(createBusAuthority());
    expect(Object.keys(trust.accounts)).toHaveLength(2);
    expect(trust.accounts[trust.systemAccount]).toBeDefined();
    expect(decode(trust.operatorJwt).nats).toMatchObject({
      type: 'operator',
      system_account: trust.systemAccount,
    });
  });

  it('issues an evaluator credentials limited to its pool, signed by the account', async () => {
    const authority = createBusAuthority();
    const trust = await busTrust(authority);
    const account = Object.keys(trust.accounts).find((key) => key !== trust.systemAccount);
    const claims = userClaims(await issueBusCredentials(authority, { role: 'evaluator', pool: 'tenant-a' }));
    expect(claims.name).toBe('castellan-evaluator-tenant-a');
    expect(claims.iss).toBe(account);
    expect(claims.nats.sub?.allow).toEqual([
      'castellan.eval.tenant-a.> tenant-a',
      '_INBOX.evaluator.tenant-a.>',
    ]);
    expect(claims.nats.pub?.allow).not.toContain('castellan.eval.*.*.*');
    expect(claims.nats.pub?.allow).toContain('$KV.castellan-evaluators.tenant-a.>');
    expect(claims.nats.resp).toEqual({ max: 1, ttl: 60_000_000_000 });
    expect(claims.nats.bearer_token).toBe(false);
  });

  it('gives the gateway no way to answer: no responses, no subscription outside its inbox', async () => {
    const claims = userClaims(await issueBusCredentials(createBusAuthority(), { role: 'gateway' }));
    expect(claims.nats.sub?.allow).toEqual(['_INBOX.gateway.>']);
    expect(claims.nats.resp).toBeUndefined();
    expect(claims.nats.pub?.allow).toContain('castellan.eval.*.*.*');
  });
});
