// A real Kubernetes control plane for tests: etcd and kube-apiserver, built from their Go modules by
// tools/build.sh, on loopback ports with certificates made for the run, and on request the garbage
// collector and namespace controller of kube-controller-manager. There is no scheduler or kubelet
// and no other controller: objects are only stored (no ReplicaSets, no pods running), which is all
// admission needs. See test/README.md.
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createCertificateAuthority, issueCertificate } from '@castellan/pki';
import type { CertificateAndKey } from '@castellan/pki';
import { ApiException, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { requireBinary } from './binaries.js';
import { freeLoopbackPort, startProcess, waitUntilReady } from './processes.js';
import type { ServerProcess } from './processes.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));

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
  /** An object as the API server has it now, or undefined when it does not exist. */
  find<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<T | undefined>;
  /** Runs kubectl against the API server; resolves with its output whatever its exit code. */
  kubectl(args: readonly string[], input?: string): Promise<KubectlResult>;
  /** Applies Castellan's CRDs as a user would (`kubectl apply -k deploy/crds`) and waits until served. */
  applyCrds(): Promise<void>;
  /**
   * The requests the API server completed so far, in order, from its audit log: what a test reads
   * to check which writes a component made.
   */
  requests(): Promise<AuditedRequest[]>;
  /** Stops kube-apiserver and starts it again on the same port and store (etcd keeps running). */
  restartApiServer(): Promise<void>;
  /** Output of etcd and kube-apiserver, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /**
   * Runs kube-controller-manager's garbage collector (ownerReferences) and namespace controller,
   * for tests of what is deleted along with its owner.
   */
  garbageCollector?: boolean;
}

/** One request in the API server's audit log. */
export interface AuditedRequest {
  /** The HTTP method: GET (get, list, watch), POST, PUT, PATCH or DELETE. */
  method: string;
  /** The path, without the query. */
  path: string;
  status: number;
  /** Who made it (the tests' admin is `castellan-test-admin`). */
  user: string;
}

/** Every request once it completed, metadata only (no bodies: Secrets pass through). */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
`;

const METHOD_OF_VERB: Record<string, string> = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETE',
};

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
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const [etcdBinary, apiServerBinary, controllerManagerBinary] = await Promise.all([
    requireBinary('etcd'),
    requireBinary('kube-apiserver'),
    options.garbageCollector ? requireBinary('kube-controller-manager') : undefined,
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'castellan-control-plane-'));
  const started: ServerProcess[] = [];
  try {
    const files = await writeCertificates(dir);
    const etcd = await startEtcd(etcdBinary, dir, files);
    started.push(etcd.process);
    const port = await freeLoopbackPort();
    const url = `https://127.0.0.1:${port}`;
    const auditLog = join(dir, 'audit.log');
    await writeFile(join(dir, 'audit-policy.yaml'), AUDIT_POLICY);
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
    if (controllerManagerBinary) {
      started.push(await startControllerManager(controllerManagerBinary, kubeconfigPath, files));
    }
    const kubectlHere = (command: readonly string[], input?: string) =>
      kubectl(kubeconfigPath, command, input);
    const client = new KubeConfig();
    client.loadFromString(kubeconfig);
    const objects = KubernetesObjectApi.makeApiClient(client);
    return {
      url,
      kubeconfig,
      kubeconfigPath,
      kubeConfig() {
        const config = new KubeConfig();
        config.loadFromString(kubeconfig);
        return config;
      },
      async find<T extends KubernetesObject>(
        apiVersion: string,
        kind: string,
        name: string,
        namespace?: string,
      ) {
        try {
          return await objects.read<T>({ apiVersion, kind, metadata: { name, namespace } });
        } catch (error) {
          if (error instanceof ApiException && error.code === 404) return undefined;
          throw error;
        }
      },
      kubectl: kubectlHere,
      requests: () => auditedRequests(auditLog),
      async applyCrds() {
        for (const command of [
          ['apply', '--server-side', '-k', join(repo, 'deploy/crds')],
          [
            'wait',
            '--for=condition=established',
            '--timeout=60s',
            'crd',
            '-l',
            'app.kubernetes.io/part-of=castellan',
          ],
        ]) {
          const result = await kubectlHere(command);
          if (result.code !== 0) throw new Error(`kubectl ${command.join(' ')} failed: ${result.stderr}`);
        }
      },
      async restartApiServer() {
        const stoppedApiServer = apiServer;
        await apiServer.stop();
        apiServer = await launchApiServer();
        started[started.indexOf(stoppedApiServer)] = apiServer;
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

/** The garbage collector and the namespace controller, nothing else, as the admin. */
async function startControllerManager(
  binary: string,
  kubeconfigPath: string,
  files: ControlPlaneFiles,
): Promise<ServerProcess> {
  const port = await freeLoopbackPort();
  const manager = startProcess(binary, [
    `--kubeconfig=${kubeconfigPath}`,
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
    '--controllers=garbagecollector,namespace',
    '--leader-elect=false',
    '--use-service-account-credentials=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${files.apiServerCert}`,
    `--tls-private-key-file=${files.apiServerKey}`,
    '--v=0',
  ]);
  await waitUntilReady(
    manager,
    'kube-controller-manager',
    async () =>
      (await getWithClientCertificate(`https://127.0.0.1:${port}/healthz`, files.caPem, files.admin)) ===
      'ok',
    API_SERVER_READY_MS,
  );
  return manager;
}

async function auditedRequests(path: string): Promise<AuditedRequest[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const event = JSON.parse(line) as {
        verb: string;
        requestURI: string;
        responseStatus?: { code?: number };
        user?: { username?: string };
      };
      return {
        method: METHOD_OF_VERB[event.verb] ?? event.verb.toUpperCase(),
        path: event.requestURI.split('?')[0] ?? event.requestURI,
        status: event.responseStatus?.code ?? 0,
        user: event.user?.username ?? '',
      };
    });
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
    `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
    `--audit-log-path=${join(dir, 'audit.log')}`,
    // Written before the answer goes out, so a test reads every request it saw answered.
    '--audit-log-mode=blocking',
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
