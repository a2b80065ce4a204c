import { busIdentityName } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import { createAccount, createOperator, createUser, fromSeed } from '@nats-io/nkeys';
import type { KeyPair } from '@nats-io/nkeys';
import * as jwt from '@nats-io/jwt';
import { BusAuthError, BusAuthErrorCode } from './errors.js';
import { busPermissions } from './permissions.js';
import type { BusPermissions } from './permissions.js';

const NO_LIMIT = -1;
const NANOSECONDS_PER_MS = 1_000_000;

/**
 * The signing keys of Castellan's NATS (the decentralized JWT model): an operator that the server
 * trusts, the system account nats-server needs for its own traffic, and the one account every
 * Castellan connection lives in. Whoever holds it mints credentials: the reconciler in a cluster,
 * `castellan up` on a laptop. The seeds are secrets.
 */
export interface BusAuthority {
  readonly operatorSeed: string;
  readonly systemAccountSeed: string;
  readonly accountSeed: string;
}

/** What nats-server's configuration must hold to trust the authority (no seed in it). */
export interface BusTrust {
  readonly operatorJwt: string;
  readonly systemAccount: string;
  /** Account public key → account JWT, for `resolver_preload`. */
  readonly accounts: Readonly<Record<string, string>>;
}

export function createBusAuthority(): BusAuthority {
  return {
    operatorSeed: seedOf(createOperator()),
    systemAccountSeed: seedOf(createAccount()),
    accountSeed: seedOf(createAccount()),
  };
}

/** Reads an authority written by {@link serializeBusAuthority}; throws a one-line error otherwise. */
export function parseBusAuthority(text: string, source: string): BusAuthority {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidAuthority(source, 'it is not JSON');
  }
  const record = value as Partial<Record<keyof BusAuthority, unknown>>;
  const authority: BusAuthority = {
    operatorSeed: seedField(record.operatorSeed, 'SO', 'operatorSeed', source),
    systemAccountSeed: seedField(record.systemAccountSeed, 'SA', 'systemAccountSeed', source),
    accountSeed: seedField(record.accountSeed, 'SA', 'accountSeed', source),
  };
  return authority;
}

export function serializeBusAuthority(authority: BusAuthority): string {
  return `${JSON.stringify(authority, null, 2)}\n`;
}

/** The operator and account JWTs nats-server is configured with. */
export async function busTrust(authority: BusAuthority): Promise<BusTrust> {
  const operator = fromSeed(encode(authority.operatorSeed));
  const system = fromSeed(encode(authority.systemAccountSeed));
  const account = fromSeed(encode(authority.accountSeed));
  const operatorJwt = await jwt.encodeOperator('castellan', operator, {
    system_account: system.getPublicKey(),
  });
  const systemJwt = await jwt.encodeAccount('SYS', system, {}, { signer: operator });
  const accountJwt = await jwt.encodeAccount(
    'CASTELLAN',
    account,
    {
      limits: {
        subs: NO_LIMIT,
        data: NO_LIMIT,
        payload: NO_LIMIT,
        imports: NO_LIMIT,
        exports: NO_LIMIT,
        wildcards: true,
        conn: NO_LIMIT,
        leaf: NO_LIMIT,
        mem_storage: NO_LIMIT,
        disk_storage: NO_LIMIT,
        streams: NO_LIMIT,
        consumer: NO_LIMIT,
      },
    },
    { signer: operator },
  );
  return {
    operatorJwt,
    systemAccount: system.getPublicKey(),
    accounts: { [system.getPublicKey()]: systemJwt, [account.getPublicKey()]: accountJwt },
  };
}

export interface CredentialOptions {
  /** When the credentials stop being accepted; default never (rotate by issuing new ones). */
  readonly expiresAt?: Date;
}

/**
 * A `.creds` file (user JWT + its seed, the format every NATS client reads) for one identity,
 * carrying that identity's permissions. nats-server checks them on every publish and subscribe.
 */
export async function issueBusCredentials(
  authority: BusAuthority,
  identity: BusIdentity,
  options: CredentialOptions = {},
): Promise<string> {
  const account = fromSeed(encode(authority.accountSeed));
  const user = createUser();
  const permissions = busPermissions(identity);
  const token = await jwt.encodeUser(
    `castellan-${busIdentityName(identity)}`,
    user,
    account,
    {
      pub: { allow: [...permissions.publish] },
      sub: { allow: [...permissions.subscribe] },
      ...(permissions.responses && { resp: responsesClaim(permissions.responses) }),
      subs: NO_LIMIT,
      data: NO_LIMIT,
      payload: NO_LIMIT,
      bearer_token: false,
    },
    options.expiresAt ? { exp: Math.floor(options.expiresAt.getTime() / 1000) } : {},
  );
  return new TextDecoder().decode(jwt.fmtCreds(token, user));
}

/** The user JWT's `resp` claim: nats-server counts the TTL in nanoseconds. */
export function responsesClaim(responses: NonNullable<BusPermissions['responses']>): {
  max: number;
  ttl: number;
} {
  return { max: responses.max, ttl: responses.ttlMs * NANOSECONDS_PER_MS };
}

/** The public key of the account every Castellan identity lives in (the issuer of their JWTs). */
export function accountPublicKey(authority: BusAuthority): string {
  return fromSeed(encode(authority.accountSeed)).getPublicKey();
}

function seedOf(pair: KeyPair): string {
  return new TextDecoder().decode(pair.getSeed());
}

function encode(seed: string): Uint8Array {
  return new TextEncoder().encode(seed);
}

function seedField(value: unknown, prefix: string, field: string, source: string): string {
  if (typeof value !== 'string' || !value.startsWith(prefix)) {
    throw invalidAuthority(source, `${field} must be an nkey seed starting with ${prefix}`);
  }
  try {
    fromSeed(encode(value));
  } catch {
    throw invalidAuthority(source, `${field} is not a valid nkey seed`);
  }
  return value;
}

function invalidAuthority(source: string, why: string): BusAuthError {
  return new BusAuthError(
    BusAuthErrorCode.AuthorityInvalid,
    `the NATS signing keys in ${source} cannot be used: ${why}; restore them, or create new ones (castellan up: delete the file; Kubernetes: castellan bus-secrets), after which every credential issued before stops working`,
  );
}
