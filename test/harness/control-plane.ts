// A real Kubernetes control plane for tests: etcd and kube-apiserver, built from their Go modules by
// tools/build.sh, on loopback ports with certificates made for the run. There is no controller
// manager, scheduler or kubelet: objects are only stored (no garbage collection, no ReplicaSets,
// no pods running), which is all admission needs. See test/README.md.
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCertificateAuthority, issueCertificate } from '@castellan/pki';
import type { CertificateAndKey } from '@castellan/pki';
import { KubeConfig } from '@kubernetes/client-node';
import { requireBinary } from './binaries.js';
import { freeLoopbackPort, startProcess, waitUntilReady } from './processes.js';
import type { ServerProcess } from './processes.js';

const run = promisify(execFile);

/** kube-apiserver needs several seconds on two shared cores (longer while other tests run). */
const API_SERVER_READY_MS = 90_000;

export interface ControlPlane {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** A kubeconfig (YAML) of a cluster admin (group system:masters), and where it is written. */
  readonly kubeconfig: string;
  readonly kubeconfigPath: string;
  /** A client configuration of the same admin. */
  kubeConfig(): KubeConfig;
  /** Runs kubectl against the API server; resolves with its output whatever its exit code. */
  kubectl(args: readonly string[], input?: string): Promise<KubectlResult>;
  /** Stops kube-apiserver and starts it again on the same port and store (etcd keeps running). */
  restartApiServer(): Promise<void>;
  /** Output of etcd and kube-apiserver, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Files of the run: a CA, serving and client certificates, the service-account key. */
interface ControlPlaneFiles {
  caFile: string;
  etcdCert: string;
  etcdKey: string;
  apiServerCert: string;
  apiServerKey: string;
  /** kube-apiserver's client certificate towards etcd. */
  etcdClientCert: string;
  etcdClientKey: string;
  etcdClient: CertificateAndKey;
  /** The key kube-apiserver signs service-account tokens with (SEC1), and its public half. */
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
  admin: CertificateAndKey;
  caPem: string;
}

/** etcd with mutual TLS, then kube-apiserver against it, each on free loopback ports. */
export async function startControlPlane(): Promise<ControlPlane> {
  const [etcdBinary, apiServerBinary] = await Promise.all([
    requireBinary('etcd'),
    requireBinary('kube-apiserver'),
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'castellan-control-plane-'));
  const started: ServerProcess[] = [];
  try {
    const files = await writeCertificates(dir);
    const etcd = await startEtcd(etcdBinary, dir, files);
    started.push(etcd.process);
    const port = await freeLoopbackPort();
    const url = `https://127.0.0.1:${port}`;
    const args = apiServerArgs({ port, etcdUrl: etcd.url, files, dir });
    const launchApiServer = async (): Promise<ServerProcess> => {
      const apiServer = startProcess(apiServerBinary, args);
      await waitUntilReady(apiServer, 'kube-apiserver', () => isReady(url, files), API_SERVER_READY_MS);
      return apiServer;
    };
    let apiServer = await launchApiServer();
    started.push(apiServer);

    const kubeconfig = kubeconfigOf(url, files);
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
    return {
      url,
      kubeconfig,
      kubeconfigPath,
      kubeConfig() {
        const config = new KubeConfig();
        config.loadFromString(kubeconfig);
        return config;
      },
      kubectl: (command, input) => kubectl(kubeconfigPath, command, input),
      async restartApiServer() {
        await apiServer.stop();
        apiServer = await launchApiServer();
        started.splice(1, 1, apiServer);
      },
      logs: () => started.map((server) => server.output()).join('\n'),
      async stop() {
        await stopAll(started);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopAll(started);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function stopAll(processes: readonly ServerProcess[]): Promise<void> {
  // The API server first: it would only log etcd's absence.
  for (const server of [...processes].reverse()) await server.stop();
}

async function writeCertificates(dir: string): Promise<ControlPlaneFiles> {
  const authority = await createCertificateAuthority({
    commonName: 'Castellan test cluster CA',
    validityDays: 1,
  });
  const loopback = { ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], validityDays: 1 };
  const [etcd, apiServer, etcdClient, serviceAccount, admin] = await Promise.all([
    issueCertificate(authority, { commonName: 'etcd', usage: 'peer', ...loopback }),
    issueCertificate(authority, {
      commonName: 'kube-apiserver',
      ...loopback,
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    }),
    issueCertificate(authority, {
      commonName: 'kube-apiserver-etcd-client',
      usage: 'client',
      validityDays: 1,
    }),
    // Only its key is used: kube-apiserver signs service-account tokens with it.
    issueCertificate(authority, { commonName: 'service-accounts', validityDays: 1 }),
    issueCertificate(authority, {
      commonName: 'castellan-test-admin',
      organizations: ['system:masters'],
      usage: 'client',
      validityDays: 1,
    }),
  ]);
  const file = async (name: string, content: string) => {
    const path = join(dir, name);
    await writeFile(path, content, { mode: 0o600 });
    return path;
  };
  return {
    caPem: authority.certPem,
    caFile: await file('ca.crt', authority.certPem),
    etcdCert: await file('etcd.crt', etcd.certPem),
    etcdKey: await file('etcd.key', etcd.keyPem),
    apiServerCert: await file('apiserver.crt', apiServer.certPem),
    apiServerKey: await file('apiserver.key', apiServer.keyPem),
    etcdClientCert: await file('apiserver-etcd-client.crt', etcdClient.certPem),
    etcdClientKey: await file('apiserver-etcd-client.key', etcdClient.keyPem),
    etcdClient,
    serviceAccountKey: await file(
      'service-accounts.key',
      createPrivateKey(serviceAccount.keyPem).export({ type: 'sec1', format: 'pem' }).toString(),
    ),
    serviceAccountPublicKey: await file(
      'service-accounts.pub',
      createPublicKey(serviceAccount.keyPem).export({ type: 'spki', format: 'pem' }).toString(),
    ),
    admin,
  };
}

/** etcd serving clients and its (unused) peer port with mutual TLS only. */
async function startEtcd(
  binary: string,
  dir: string,
  files: ControlPlaneFiles,
): Promise<{ url: string; process: ServerProcess }> {
  const [clientPort, peerPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const url = `https://127.0.0.1:${clientPort}`;
  const peerUrl = `https://127.0.0.1:${peerPort}`;
  const tls = (prefix: string) => [
    `--${prefix}cert-file=${files.etcdCert}`,
    `--${prefix}key-file=${files.etcdKey}`,
    `--${prefix}trusted-ca-file=${files.caFile}`,
    `--${prefix}client-cert-auth=true`,
  ];
  const etcd = startProcess(binary, [
    '--name=test',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=test=${peerUrl}`,
    '--log-level=warn',
    // Tests do not need fsync's durability, and two shared cores do not have it to spare.
    '--unsafe-no-fsync=true',
    ...tls(''),
    ...tls('peer-'),
  ]);
  await waitUntilReady(
    etcd,
    'etcd',
    async () => {
      const body = await getWithClientCertificate(`${url}/health`, files.caPem, files.etcdClient);
      return body.includes('"health":"true"');
    },
    30_000,
  );
  return { url, process: etcd };
}

function apiServerArgs(options: {
  port: number;
  etcdUrl: string;
  files: ControlPlaneFiles;
  dir: string;
}): string[] {
  const { files, dir } = options;
  return [
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${options.port}`,
    `--etcd-servers=${options.etcdUrl}`,
    `--etcd-cafile=${files.caFile}`,
    `--etcd-certfile=${files.etcdClientCert}`,
    `--etcd-keyfile=${files.etcdClientKey}`,
    `--tls-cert-file=${files.apiServerCert}`,
    `--tls-private-key-file=${files.apiServerKey}`,
    `--client-ca-file=${files.caFile}`,
    '--authorization-mode=RBAC',
    '--anonymous-auth=false',
    `--service-account-key-file=${files.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${files.serviceAccountKey}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    '--service-cluster-ip-range=10.96.0.0/24',
    // The `kubernetes` Service's endpoints would be 127.0.0.1, which the API refuses in Endpoints.
    '--endpoint-reconciler-type=none',
    // Privileged pods must reach the policies: without this the API server refuses them itself.
    '--allow-privileged=true',
    // No controller manager creates a namespace's `default` ServiceAccount, which this plugin
    // requires of every pod.
    '--disable-admission-plugins=ServiceAccount',
    '--profiling=false',
    // Where the server keeps what it generates for itself (its loopback client certificate).
    `--cert-dir=${join(dir, 'apiserver-certs')}`,
    '--v=0',
  ];
}

async function isReady(url: string, files: ControlPlaneFiles): Promise<boolean> {
  return (await getWithClientCertificate(`${url}/readyz`, files.caPem, files.admin)) === 'ok';
}

/** The body of an HTTPS GET with a client certificate, trusting only the run's CA. */
function getWithClientCertificate(url: string, caPem: string, client: CertificateAndKey): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { ca: caPem, cert: client.certPem, key: client.keyPem, timeout: 5000 };
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

function kubeconfigOf(url: string, files: ControlPlaneFiles): string {
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: test',
    '    cluster:',
    `      server: ${url}`,
    `      certificate-authority-data: ${base64(files.caPem)}`,
    'users:',
    '  - name: admin',
    '    user:',
    `      client-certificate-data: ${base64(files.admin.certPem)}`,
    `      client-key-data: ${base64(files.admin.keyPem)}`,
    'contexts:',
    '  - name: test',
    '    context: { cluster: test, user: admin }',
    'current-context: test',
    '',
  ].join('\n');
}

async function kubectl(
  kubeconfigPath: string,
  args: readonly string[],
  input?: string,
): Promise<KubectlResult> {
  const binary = await requireBinary('kubectl');
  const child = run(binary, ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 16 * 1024 * 1024 });
  if (input !== undefined) child.child.stdin?.end(input);
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
