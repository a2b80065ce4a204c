import { posix } from 'node:path';
import { busIdentityName } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import { busTrust, createBusAuthority, issueBusCredentials, serializeBusAuthority } from './authority.js';
import { createNatsCertificateAuthority, issueNatsServerCertificate } from './nats-pki.js';
import { lockedServerConfig, routeTlsConfig } from './server-config.js';
import type { TlsFiles } from './server-config.js';

/** Names of the Secrets a cluster's bus needs besides the per-identity credentials. */
export const ClusterBusSecretName = {
  /** The signing keys: mounted by the reconciler only, which mints each pool's credentials. */
  Authority: 'castellan-nats-authority',
  /** What the NATS servers need: the locking configuration, their certificate, the CA. */
  Server: 'castellan-nats-server',
} as const;

/** Keys (file names, once mounted) of those Secrets. */
export const ClusterBusSecretKey = {
  Authority: 'authority.json',
  /** The `lockedServerConfig` lines, which nats.conf includes. */
  ServerConfig: 'auth.conf',
  /** The `tls` block of a cluster's routes, which a clustered nats.conf includes in `cluster {}`. */
  RouteTls: 'routes-tls.conf',
  Certificate: 'tls.crt',
  PrivateKey: 'tls.key',
  /** The CA of the servers' certificates, in the server Secret and in every credentials Secret. */
  Ca: 'ca.crt',
  /** An identity's `.creds` file, in its credentials Secret. */
  Credentials: 'nats.creds',
} as const;

/**
 * Where the NATS pods mount the server Secret, next to nats.conf (one projected volume): nats-server
 * resolves `include` relative to the including file, so the files must share its directory.
 */
export const NATS_CONFIG_DIR = '/etc/nats';

/** The identities whose credentials an operator supplies; evaluators' are minted by the reconciler. */
const OPERATOR_SUPPLIED: readonly BusIdentity[] = [
  { role: 'gateway' },
  { role: 'fetcher' },
  { role: 'control' },
];

/**
 * The Secret holding one identity's credentials (`nats.creds`, `ca.crt`):
 * `castellan-nats-creds-gateway`, `…-fetcher`, `…-reconciler` (the control identity, in a cluster)
 * and `…-evaluator-<pool>`.
 */
export function credentialsSecretName(identity: BusIdentity): string {
  return `castellan-nats-creds-${holderOf(identity)}`;
}

/** Who holds an identity's credentials in a cluster: the control identity is the reconciler's. */
function holderOf(identity: BusIdentity): string {
  return identity.role === 'control' ? 'reconciler' : busIdentityName(identity);
}

export interface ClusterBusOptions {
  /** Castellan's namespace. */
  readonly namespace: string;
  /** The client Service of the NATS StatefulSet; `<service>-headless` is its headless Service. */
  readonly natsService: string;
  /** Servers in the StatefulSet: each one's route name goes into the certificate. */
  readonly natsReplicas: number;
  /** Where the server Secret is mounted; default {@link NATS_CONFIG_DIR}. */
  readonly configDir?: string;
}

/** One Secret to create: its name, who mounts it, and its keys' contents (text). */
export interface ClusterBusSecret {
  readonly name: string;
  readonly mountedBy: string;
  readonly data: Readonly<Record<string, string>>;
}

/**
 * Everything a Kubernetes cluster's locked bus needs that an operator supplies once: new signing
 * keys, a new CA and server certificate, and the credentials of the gateway, the fetcher and the
 * reconciler. Nothing here is kept: calling it again rotates all of it at once.
 */
export async function prepareClusterBus(options: ClusterBusOptions): Promise<ClusterBusSecret[]> {
  const dir = options.configDir ?? NATS_CONFIG_DIR;
  const authority = createBusAuthority();
  const ca = await createNatsCertificateAuthority();
  const server = await issueNatsServerCertificate(ca, {
    dnsNames: natsServerNames(options),
    ipAddresses: ['127.0.0.1'],
  });
  const tls: TlsFiles = {
    certFile: posix.join(dir, ClusterBusSecretKey.Certificate),
    keyFile: posix.join(dir, ClusterBusSecretKey.PrivateKey),
    caFile: posix.join(dir, ClusterBusSecretKey.Ca),
  };
  const credentials = await Promise.all(
    OPERATOR_SUPPLIED.map(async (identity) => ({
      name: credentialsSecretName(identity),
      mountedBy: `the ${holderOf(identity)} only`,
      data: {
        [ClusterBusSecretKey.Credentials]: await issueBusCredentials(authority, identity),
        [ClusterBusSecretKey.Ca]: ca.certPem,
      },
    })),
  );
  return [
    {
      name: ClusterBusSecretName.Authority,
      mountedBy: 'the reconciler only',
      data: { [ClusterBusSecretKey.Authority]: serializeBusAuthority(authority) },
    },
    {
      name: ClusterBusSecretName.Server,
      mountedBy: `the NATS servers, at ${dir}`,
      data: {
        [ClusterBusSecretKey.ServerConfig]: `${lockedServerConfig(await busTrust(authority), tls)}\n`,
        [ClusterBusSecretKey.RouteTls]: `${routeTlsConfig(tls)}\n`,
        [ClusterBusSecretKey.Certificate]: server.certPem,
        [ClusterBusSecretKey.PrivateKey]: server.keyPem,
        [ClusterBusSecretKey.Ca]: ca.certPem,
      },
    },
    ...credentials,
  ];
}

/**
 * The names clients and routes reach the servers by: the client Service in every form a pod may
 * write it, each server under the headless Service (the short names the routes dial, one per
 * replica, since a wildcard one level below a single label is refused by some verifiers; and the
 * qualified names as wildcards), and localhost for `kubectl port-forward`.
 */
function natsServerNames({ namespace, natsService, natsReplicas }: ClusterBusOptions): string[] {
  const headless = `${natsService}-headless`;
  return [
    natsService,
    `${natsService}.${namespace}`,
    `${natsService}.${namespace}.svc`,
    `${natsService}.${namespace}.svc.cluster.local`,
    ...Array.from({ length: natsReplicas }, (_, index) => `${natsService}-${index}.${headless}`),
    `*.${headless}.${namespace}.svc`,
    `*.${headless}.${namespace}.svc.cluster.local`,
    'localhost',
  ];
}
