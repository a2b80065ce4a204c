import { isDeepStrictEqual } from 'node:util';
import type { BusIdentity } from '@castellan/proto';
import { busIdentityName } from '@castellan/proto';
import { fromSeed } from '@nats-io/nkeys';
import * as jwt from '@nats-io/jwt';
import { accountPublicKey, responsesClaim } from './authority.js';
import type { BusAuthority } from './authority.js';
import { busPermissions } from './permissions.js';

/** What a `.creds` file says about itself (its JWT's claims, the signature checked). */
export interface IssuedCredentials {
  /** `castellan-<identity name>` when Castellan issued them. */
  readonly name: string;
  /** The public key of the account that signed them. */
  readonly issuer: string;
  readonly issuedAt: Date;
  /** Undefined when they never expire. */
  readonly expiresAt: Date | undefined;
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /** nats-server's `allow_responses`: `{max, ttl}` (ttl in nanoseconds), when any. */
  readonly responses: unknown;
  /** Whether the seed in the file is the key the JWT was issued to (nats-server checks it). */
  readonly seedMatches: boolean;
}

const SECONDS = 1000;

/**
 * Reads a `.creds` file; undefined when it is not one, or when its JWT's signature does not verify.
 * The seed is read to check it, never returned.
 */
export async function inspectBusCredentials(creds: string): Promise<IssuedCredentials | undefined> {
  let parsed: Awaited<ReturnType<typeof jwt.parseCreds>>;
  try {
    parsed = await jwt.parseCreds(new TextEncoder().encode(creds));
  } catch {
    return undefined;
  }
  const claims = parsed.uc;
  if (claims.nats.type !== 'user') return undefined;
  let seedMatches: boolean;
  try {
    seedMatches = fromSeed(new TextEncoder().encode(parsed.key)).getPublicKey() === claims.sub;
  } catch {
    seedMatches = false;
  }
  return {
    name: claims.name,
    issuer: claims.iss,
    issuedAt: new Date(claims.iat * SECONDS),
    expiresAt: claims.exp ? new Date(claims.exp * SECONDS) : undefined,
    publish: claims.nats.pub?.allow ?? [],
    subscribe: claims.nats.sub?.allow ?? [],
    responses: claims.nats.resp,
    seedMatches,
  };
}

/**
 * Why `credentials` are not what {@link issueBusCredentials} would issue for `identity` under
 * `authority` today (another identity, another authority, permissions of an older release, a seed
 * that is not theirs); undefined when they are. Expiry is the caller's rule.
 */
export function credentialsMismatch(
  credentials: IssuedCredentials,
  authority: BusAuthority,
  identity: BusIdentity,
): string | undefined {
  const expectedName = `castellan-${busIdentityName(identity)}`;
  if (credentials.name !== expectedName) return `they are those of ${credentials.name}, not ${expectedName}`;
  if (credentials.issuer !== accountPublicKey(authority)) return 'they were signed by another authority';
  if (!credentials.seedMatches) return 'their seed is not the key their JWT was issued to';
  const permissions = busPermissions(identity);
  const responses = permissions.responses && responsesClaim(permissions.responses);
  if (
    !isDeepStrictEqual(credentials.publish, permissions.publish) ||
    !isDeepStrictEqual(credentials.subscribe, permissions.subscribe) ||
    !isDeepStrictEqual(credentials.responses, responses)
  ) {
    return `their permissions are not those ${expectedName} has now`;
  }
  return undefined;
}
