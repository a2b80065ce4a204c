/**
 * A client CA and a client certificate it signed (extendedKeyUsage clientAuth), as the API server
 * presents one when a webhook requires client authentication. Made with openssl, like the harness's
 * server certificates.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireBinary } from '../../../test/harness/binaries.js';

const run = promisify(execFile);

export interface ClientCertificates {
  caPath: string;
  cert: string;
  key: string;
}

export async function createClientCertificates(
  dir: string,
  commonName = 'kube-apiserver',
): Promise<ClientCertificates> {
  const openssl = await requireBinary('openssl');
  const caPath = join(dir, 'client-ca.pem');
  const caKeyPath = join(dir, 'client-ca-key.pem');
  const certPath = join(dir, 'client.pem');
  const keyPath = join(dir, 'client-key.pem');
  const csrPath = join(dir, 'client.csr');
  const extPath = join(dir, 'client-ext.cnf');
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run(openssl, [
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    caKeyPath,
    '-out',
    caPath,
    '-days',
    '1',
    '-subj',
    '/CN=Castellan Test Client CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run(openssl, ['req', ...ecKey, '-keyout', keyPath, '-out', csrPath, '-subj', `/CN=${commonName}`]);
  await writeFile(
    extPath,
    ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'].join(
      '\n',
    ),
  );
  await run(openssl, [
    'x509',
    '-req',
    '-in',
    csrPath,
    '-CA',
    caPath,
    '-CAkey',
    caKeyPath,
    '-CAcreateserial',
    '-out',
    certPath,
    '-days',
    '1',
    '-extfile',
    extPath,
  ]);
  return { caPath, cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
}
