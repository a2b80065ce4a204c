// One faithful in-memory Kubernetes API server for tests, served over HTTP on a loopback port.
// Entry point of test/harness/kube-api; see README.md in this directory for what it models.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BUILTIN_TYPES, INITIAL_NAMESPACES } from './builtin-types.js';
import { crdFilesIn, loadCrdTypes } from './crd-types.js';
import { ResourceRegistry } from './registry.js';
import type { RecordedRequest } from './server.js';
import { handleRequest } from './server.js';
import { ObjectStore } from './store.js';

export type { KubeObject, ObjectMeta, OwnerReference, ResourceType, StoredObject } from './types.js';
export type { Status } from './errors.js';
export type { WatchEvent } from './change-log.js';
export type { RecordedRequest } from './server.js';
export { ObjectStore, PATCH_TYPES } from './store.js';
export { ResourceRegistry } from './registry.js';

export interface KubeApiOptions {
  /** CRD manifests to serve; default: every CRD in deploy/crds. */
  crds?: readonly string[];
  /** Changes kept for watches; a watch from before the window gets 410. Default 1000. */
  historyLimit?: number;
  /** Period of BOOKMARK events on watches that allow them. Default 1000 ms (the real one is ~1 min). */
  bookmarkIntervalMs?: number;
}

export interface KubeApi {
  /** `http://127.0.0.1:<port>`, no TLS, no authentication. */
  url: string;
  /** Direct access to the objects, for seeding and assertions without HTTP. */
  store: ObjectStore;
  registry: ResourceRegistry;
  /** Every request served so far, in order of completion. */
  requests: RecordedRequest[];
  /** A kubeconfig for `KubeConfig.loadFromString`. */
  kubeconfig: string;
  /** Compacts the change history: watches from any earlier resourceVersion (and open ones) get 410. */
  expireWatchHistory(): void;
  /** Drops every open watch connection, as a network failure would. */
  breakWatches(): void;
  /** Ends open watches and closes the server; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A kubeconfig for the fake's plain-HTTP URL. client-node 1.x refuses an `http:` server unless the
 * cluster sets `insecure-skip-tls-verify` (there is no TLS to verify).
 */
function kubeconfigFor(url: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: fake',
    `    cluster: { server: "${url}", insecure-skip-tls-verify: true }`,
    'users:',
    '  - name: fake',
    '    user: { token: fake }',
    'contexts:',
    '  - name: fake',
    '    context: { cluster: fake, user: fake, namespace: default }',
    'current-context: fake',
    '',
  ].join('\n');
}

export async function startKubeApi(options: KubeApiOptions = {}): Promise<KubeApi> {
  const crdTypes = await loadCrdTypes(options.crds ?? (await crdFilesIn()));
  const registry = new ResourceRegistry([...BUILTIN_TYPES, ...crdTypes]);
  const store = new ObjectStore(registry, { historyLimit: options.historyLimit ?? 1000 });
  for (const name of INITIAL_NAMESPACES) {
    store.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  const requests: RecordedRequest[] = [];
  const context = {
    registry,
    store,
    serverAddress: '',
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    requests,
  };
  const server = createServer((request, response) => void handleRequest(context, request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  context.serverAddress = `127.0.0.1:${port}`;
  const url = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    url,
    store,
    registry,
    requests,
    kubeconfig: kubeconfigFor(url),
    expireWatchHistory: () => store.expireWatchHistory(),
    breakWatches: () => store.changes.abortAll(),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        store.changes.endAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
