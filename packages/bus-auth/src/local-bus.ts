import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { busIdentityName } from '@castellan/proto';
import type { BusIdentity } from '@castellan/proto';
import type { CertificateAndKey } from '@castellan/pki';
import {
  busTrust,
  createBusAuthority,
  issueBusCredentials,
  parseBusAuthority,
  serializeBusAuthority,
} from './authority.js';
import type { BusAuthority } from './authority.js';
import { createNatsCertificateAuthority, issueNatsServerCertificate } from './nats-pki.js';
import { lockedServerConfig } from './server-config.js';
import type { TlsFiles } from './server-config.js';

/** Secrets: readable by their owner only. */
const SECRET_MODE = 0o600;

/**
 * Everything a nats-server on this machine needs to be locked, and what its clients need to reach
 * it: kept in one directory (`castellan up`'s state, a test's temporary directory).
 */
export interface LocalBus {
  /** The signing keys (a {@link BusAuthority}), for whoever mints credentials. */
  readonly authorityFile: string;
  /** The CA clients verify the server with (`CASTELLAN_NATS_CA`). */
  readonly caFile: string;
  /** The server's certificate (for 127.0.0.1 and localhost; also good for routes) and the CA. */
  readonly serverTls: TlsFiles;
  /** The nats-server configuration lines that lock it (see {@link lockedServerConfig}). */
  readonly serverConfig: string;
  /** The same lines in a file, for a nats-server started by hand to `include`. */
  readonly serverConfigFile: string;
  /** Writes the credentials of `identity` (`CASTELLAN_NATS_CREDS`) and returns their path. */
  credentialsFile(identity: BusIdentity): Promise<string>;
}

/**
 * Prepares `dir`: the signing keys and the CA are created once and kept (credentials already handed
 * out stay valid, and JetStream keeps its data under the same account); the server certificate is
 * issued again on every call.
 */
export async function prepareLocalBus(dir: string): Promise<LocalBus> {
  await mkdir(join(dir, 'creds'), { recursive: true, mode: 0o700 });
  const authorityFile = join(dir, 'authority.json');
  const authority = await loadOrCreateAuthority(authorityFile);
  const ca = await loadOrCreateCa(dir);
  const server = await issueNatsServerCertificate(ca, {
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const serverTls: TlsFiles = {
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server-key.pem'),
    caFile: join(dir, 'ca.pem'),
  };
  await writeFile(serverTls.certFile, server.certPem);
  await writeFile(serverTls.keyFile, server.keyPem, { mode: SECRET_MODE });
  const serverConfig = lockedServerConfig(await busTrust(authority), serverTls);
  const serverConfigFile = join(dir, 'server.conf');
  await writeFile(serverConfigFile, `${serverConfig}\n`);
  return {
    authorityFile,
    caFile: serverTls.caFile,
    serverTls,
    serverConfig,
    serverConfigFile,
    async credentialsFile(identity) {
      const path = join(dir, 'creds', `${busIdentityName(identity)}.creds`);
      await writeFile(path, await issueBusCredentials(authority, identity), { mode: SECRET_MODE });
      return path;
    },
  };
}

async function loadOrCreateAuthority(path: string): Promise<BusAuthority> {
  const existing = await readIfPresent(path);
  if (existing !== undefined) return parseBusAuthority(existing, path);
  const authority = createBusAuthority();
  await writeFile(path, serializeBusAuthority(authority), { mode: SECRET_MODE });
  return authority;
}

async function loadOrCreateCa(dir: string): Promise<CertificateAndKey> {
  const [certPem, keyPem] = await Promise.all([
    readIfPresent(join(dir, 'ca.pem')),
    readIfPresent(join(dir, 'ca-key.pem')),
  ]);
  if (certPem !== undefined && keyPem !== undefined) return { certPem, keyPem };
  const ca = await createNatsCertificateAuthority();
  await writeFile(join(dir, 'ca-key.pem'), ca.keyPem, { mode: SECRET_MODE });
  await writeFile(join(dir, 'ca.pem'), ca.certPem);
  return ca;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
