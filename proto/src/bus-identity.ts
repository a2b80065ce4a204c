import { subjectToken } from './names.js';

/** What a connection to Castellan's NATS may be: each has its own credentials and permissions. */
export const BUS_ROLES = ['gateway', 'evaluator', 'fetcher', 'control'] as const;
export type BusRole = (typeof BUS_ROLES)[number];

/**
 * The identity a NATS connection authenticates as. An evaluator's identity names its pool: the
 * credentials of one pool cannot see or answer another's evaluations. `control` is the control
 * plane: the reconciler, and `castellan up` in standalone mode.
 */
export type BusIdentity =
  | { readonly role: 'gateway' }
  | { readonly role: 'fetcher' }
  | { readonly role: 'control' }
  | { readonly role: 'evaluator'; readonly pool: string };

const INBOX_ROOT = '_INBOX';

/**
 * The reply subjects of an identity's requests (nats.js `inboxPrefix`): a subtree of its own, so
 * no other role may subscribe to, or publish into, the replies it waits for.
 */
export function inboxPrefix(identity: BusIdentity): string {
  return identity.role === 'evaluator'
    ? `${INBOX_ROOT}.evaluator.${subjectToken(identity.pool, 'pool')}`
    : `${INBOX_ROOT}.${identity.role}`;
}

/** A name for logs and credential files: `gateway`, `evaluator-<pool>`… */
export function busIdentityName(identity: BusIdentity): string {
  return identity.role === 'evaluator' ? `evaluator-${subjectToken(identity.pool, 'pool')}` : identity.role;
}
