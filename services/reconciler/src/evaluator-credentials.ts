import {
  ClusterBusSecretKey,
  credentialsMismatch,
  credentialsSecretName,
  inspectBusCredentials,
  issueBusCredentials,
} from '@castellan/bus-auth';
import type { BusAuthority, IssuedCredentials } from '@castellan/bus-auth';
import type { V1Secret } from '@kubernetes/client-node';
import { ownerReferenceOf, POOL_LABEL } from './evaluator-workload.js';
import type { PolicyServerOwner } from './evaluator-workload.js';
import { PART_OF_LABEL } from './webhook-configuration.js';

/** How long the NATS credentials of a pool are valid (services/reconciler/README.md). */
export const EVALUATOR_CREDENTIALS_VALIDITY_DAYS = 30;
/**
 * They are issued again once less than this share of their life is left (10 of 30 days): time for
 * the kubelet to refresh the mounted file, and for a reconciler that cannot write to be noticed.
 */
export const RENEW_WITH_LIFE_LEFT = 1 / 3;

const SECOND_MS = 1000;
const DAY_MS = 24 * 60 * 60 * SECOND_MS;

/** Name of the Secret holding the NATS credentials of an evaluator pool. */
export function evaluatorCredentialsSecretName(pool: string): string {
  return credentialsSecretName({ role: 'evaluator', pool });
}

export interface PoolCredentialsOptions {
  pool: string;
  /** Castellan's namespace, where the evaluators and their Secret live. */
  namespace: string;
  authority: BusAuthority;
  /** The CA of the NATS servers' certificates (the reconciler's own `CASTELLAN_NATS_CA`). */
  caPem: string;
  owner: PolicyServerOwner;
  now: Date;
}

/** The Secret to make exist, and what the reconciler says about it. */
export interface PoolCredentials {
  secret: V1Secret;
  expiresAt: Date;
  /** Why new credentials were issued; undefined when the current ones were kept. */
  issuedBecause: string | undefined;
}

/**
 * The Secret of a pool's NATS credentials (`nats.creds`, `ca.crt`), owned by its PolicyServer.
 * The credentials `current` holds are kept while they suit (see {@link renewalReason}): a JWT
 * embeds its issue time, so issuing anew on every reconcile would rewrite the Secret every time.
 */
export async function poolCredentialsOf(
  current: V1Secret | undefined,
  options: PoolCredentialsOptions,
): Promise<PoolCredentials> {
  const identity = { role: 'evaluator', pool: options.pool } as const;
  const currentCreds = secretText(current, ClusterBusSecretKey.Credentials);
  const inspected = currentCreds === undefined ? undefined : await inspectBusCredentials(currentCreds);
  const reason = renewalReason(current, inspected, options);
  let creds = currentCreds ?? '';
  let expiresAt = inspected?.expiresAt ?? options.now;
  if (reason !== undefined) {
    // In whole seconds, as the JWT holds it: the next reconcile reads back the same instant.
    const expiry = options.now.getTime() + EVALUATOR_CREDENTIALS_VALIDITY_DAYS * DAY_MS;
    expiresAt = new Date(Math.floor(expiry / SECOND_MS) * SECOND_MS);
    creds = await issueBusCredentials(options.authority, identity, { expiresAt });
  }
  return {
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: evaluatorCredentialsSecretName(options.pool),
        namespace: options.namespace,
        labels: {
          ...PART_OF_LABEL,
          'app.kubernetes.io/component': 'evaluator',
          'app.kubernetes.io/managed-by': 'castellan-reconciler',
          [POOL_LABEL]: options.pool,
        },
        ownerReferences: [ownerReferenceOf(options.owner)],
      },
      type: 'Opaque',
      data: {
        [ClusterBusSecretKey.Credentials]: base64(creds),
        [ClusterBusSecretKey.Ca]: base64(options.caPem),
      },
    },
    expiresAt,
    issuedBecause: reason,
  };
}

/**
 * Why the credentials of a pool's Secret must be issued again: there are none, they do not verify,
 * they are not exactly the pool's (another pool, another authority, permissions of an older
 * release), they never expire, or less than {@link RENEW_WITH_LIFE_LEFT} of their life is left.
 */
export function renewalReason(
  secret: V1Secret | undefined,
  credentials: IssuedCredentials | undefined,
  { authority, pool, now }: Pick<PoolCredentialsOptions, 'authority' | 'pool' | 'now'>,
): string | undefined {
  if (!secret) return 'the Secret does not exist';
  if (!credentials) return `${ClusterBusSecretKey.Credentials} is missing or its signature does not verify`;
  const mismatch = credentialsMismatch(credentials, authority, { role: 'evaluator', pool });
  if (mismatch !== undefined) return mismatch;
  const { issuedAt, expiresAt } = credentials;
  if (expiresAt === undefined) return 'they never expire';
  const left = expiresAt.getTime() - now.getTime();
  if (left < (expiresAt.getTime() - issuedAt.getTime()) * RENEW_WITH_LIFE_LEFT) {
    return `they expire at ${expiresAt.toISOString()}, with less than a third of their life left`;
  }
  return undefined;
}

function secretText(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
