// Tests of the shared in-memory Kubernetes API server fake (test/harness/kube-api), over plain
// HTTP the way @kubernetes/client-node talks to a real API server.
import { ApiException, CoordinationV1Api, CoreV1Api, KubeConfig, V1MicroTime } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KubeApi, KubeObject, Status, StoredObject, WatchEvent } from '../harness/kube-api/index.js';
import { PATCH_TYPES, startKubeApi } from '../harness/kube-api/index.js';

const GROUP = '/apis/policies.castellan.dev/v1';
const CAPS = `${GROUP}/clusteradmissionpolicies`;
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
}

let api: KubeApi;

async function call<T = StoredObject>(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Reply<T>> {
  const response = await fetch(api.url + path, {
    method,
    headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': contentType } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

function policy(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'policies.castellan.dev/v1',
    kind: 'ClusterAdmissionPolicy',
    metadata: { name },
    spec: {
      module: 'registry://ghcr.io/castellan/policies/pod-privileged:v1',
      mutating: false,
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
      ...spec,
    },
  };
}

function configMap(name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data: { key: 'value' } };
}

/** A watch stream read line by line, as client-node's Watch does. */
interface WatchStream {
  next(timeoutMs?: number): Promise<WatchEvent | undefined>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

const openWatches: WatchStream[] = [];

async function watch(path: string): Promise<WatchStream> {
  const abort = new AbortController();
  const response = await fetch(api.url + path, { signal: abort.signal });
  expect(response.status).toBe(200);
  const body = response.body;
  if (!body) throw new Error('watch response has no body');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const queue: WatchEvent[] = [];
  const waiters: (() => void)[] = [];
  let buffered = '';
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffered += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          queue.push(JSON.parse(buffered.slice(0, newline)) as WatchEvent);
          buffered = buffered.slice(newline + 1);
        }
        waiters.splice(0).forEach((wake) => wake());
      }
    } catch {
      // Aborted by close().
    } finally {
      waiters.splice(0).forEach((wake) => wake());
    }
  })();
  let finished = false;
  void ended.then(() => (finished = true));
  const stream: WatchStream = {
    async next(timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0 && !finished && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deadline - Date.now());
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return queue.shift();
    },
    ended,
    close: () => abort.abort(),
  };
  openWatches.push(stream);
  return stream;
}

async function nextObjectEvent(stream: WatchStream): Promise<WatchEvent | undefined> {
  for (;;) {
    const event = await stream.next();
    if (event?.type !== 'BOOKMARK') return event;
  }
}

function meta(event: WatchEvent | undefined): StoredObject['metadata'] {
  return (event?.object as StoredObject).metadata;
}

beforeAll(async () => {
  api = await startKubeApi({ bookmarkIntervalMs: 100 });
});

afterEach(() => {
  for (const stream of openWatches.splice(0)) stream.close();
});

afterAll(async () => {
  await api.stop();
});

describe('in-memory Kubernetes API fake: discovery', () => {
  it('lists the CRD kinds with scope, verbs and status subresources', async () => {
    const groups = await call<{ groups: { name: string; preferredVersion: { groupVersion: string } }[] }>(
      'GET',
      '/apis',
    );
    expect(groups.body.groups.map((g) => g.name)).toEqual(
      expect.arrayContaining(['apps', 'policy', 'admissionregistration.k8s.io', 'coordination.k8s.io']),
    );
    expect(groups.body.groups.find((g) => g.name === 'policies.castellan.dev')?.preferredVersion).toEqual({
      groupVersion: 'policies.castellan.dev/v1',
      version: 'v1',
    });

    interface ApiResource {
      name: string;
      kind: string;
      namespaced: boolean;
      verbs: string[];
    }
    const list = await call<{ groupVersion: string; resources: ApiResource[] }>('GET', GROUP);
    expect(list.body.groupVersion).toBe('policies.castellan.dev/v1');
    const byName = new Map(list.body.resources.map((r) => [r.name, r]));
    expect([...byName.keys()].filter((n) => !n.includes('/')).sort()).toEqual([
      'admissionpolicies',
      'admissionpolicygroups',
      'clusteradmissionpolicies',
      'clusteradmissionpolicygroups',
      'policyservers',
    ]);
    expect(byName.get('clusteradmissionpolicies')).toMatchObject({
      kind: 'ClusterAdmissionPolicy',
      namespaced: false,
      verbs: expect.arrayContaining([
        'create',
        'get',
        'list',
        'watch',
        'patch',
        'update',
        'delete',
      ]) as unknown,
    });
    expect(byName.get('admissionpolicies')).toMatchObject({ kind: 'AdmissionPolicy', namespaced: true });
    expect(byName.get('policyservers/status')).toMatchObject({
      kind: 'PolicyServer',
      verbs: ['get', 'patch', 'update'],
    });

    const core = await call<{ resources: ApiResource[] }>('GET', '/api/v1');
    expect(core.body.resources.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'namespaces',
        'namespaces/status',
        'secrets',
        'configmaps',
        'services',
        'events',
      ]),
    );
    expect((await call<{ versions: string[] }>('GET', '/api')).body.versions).toEqual(['v1']);
    expect((await call<{ major: string }>('GET', '/version')).body.major).toBe('1');
    const missing = await call<Status>('GET', '/apis/example.com/v1');
    expect(missing.status).toBe(404);
  });
});

describe('in-memory Kubernetes API fake: create, get, list, update', () => {
  it('sets system metadata and metadata.namespace on create, and refuses duplicates', async () => {
    const created = await call('POST', CONFIGMAPS, configMap('settings', { labels: { app: 'castellan' } }));
    expect(created.status).toBe(201);
    const { metadata } = created.body;
    expect(metadata.namespace).toBe('default');
    expect(metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(metadata.resourceVersion).toMatch(/^\d+$/);
    expect(metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const again = await call<Status>('POST', CONFIGMAPS, configMap('settings'));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'AlreadyExists',
      code: 409,
      message: 'configmaps "settings" already exists',
    });

    const generated = await call('POST', CONFIGMAPS, configMap('', { generateName: 'settings-' }));
    expect(generated.status).toBe(201);
    expect(generated.body.metadata.name).toMatch(/^settings-[a-z0-9]{5}$/);

    const elsewhere = await call<Status>('POST', '/api/v1/namespaces/nowhere/configmaps', configMap('x'));
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.message).toBe('namespaces "nowhere" not found');

    const got = await call('GET', `${CONFIGMAPS}/settings`);
    expect(got.body).toEqual(created.body);
    const gone = await call<Status>('GET', `${CONFIGMAPS}/absent`);
    expect(gone.body).toMatchObject({
      reason: 'NotFound',
      code: 404,
      message: 'configmaps "absent" not found',
    });
  });

  it('lists per namespace and cluster-wide, with label selectors and the list resourceVersion', async () => {
    await call('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a' },
    });
    await call('POST', '/api/v1/namespaces/team-a/configmaps', configMap('one', { labels: { tier: 'x' } }));
    await call('POST', '/api/v1/namespaces/team-a/configmaps', configMap('two', { labels: { tier: 'y' } }));

    type List = { kind: string; metadata: { resourceVersion: string }; items: StoredObject[] };
    const inTeam = await call<List>('GET', '/api/v1/namespaces/team-a/configmaps');
    expect(inTeam.body.kind).toBe('ConfigMapList');
    expect(inTeam.body.items.map((o) => o.metadata.name)).toEqual(['one', 'two']);
    expect(Number(inTeam.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(
      Math.max(...inTeam.body.items.map((o) => Number(o.metadata.resourceVersion))),
    );

    const all = await call<List>('GET', '/api/v1/configmaps');
    expect(all.body.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(
      expect.arrayContaining(['default/settings', 'team-a/one', 'team-a/two']),
    );
    const selected = await call<List>(
      'GET',
      `/api/v1/configmaps?labelSelector=${encodeURIComponent('tier=y')}`,
    );
    expect(selected.body.items.map((o) => o.metadata.name)).toEqual(['two']);
    const notX = await call<List>('GET', `/api/v1/namespaces/team-a/configmaps?labelSelector=tier!%3Dx`);
    expect(notX.body.items.map((o) => o.metadata.name)).toEqual(['two']);
    const byName = await call<List>('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3Done');
    expect(byName.body.items.map((o) => o.metadata.name)).toEqual(['one']);

    type Page = List & { metadata: { continue?: string } };
    const first = await call<Page>('GET', '/api/v1/namespaces/team-a/configmaps?limit=1');
    expect(first.body.items.map((o) => o.metadata.name)).toEqual(['one']);
    const token = first.body.metadata.continue ?? '';
    const second = await call<Page>('GET', `/api/v1/namespaces/team-a/configmaps?limit=1&continue=${token}`);
    expect(second.body.items.map((o) => o.metadata.name)).toEqual(['two']);
    expect(second.body.metadata.continue).toBeUndefined();
  });

  it('replaces with the current resourceVersion and answers 409 Conflict to a stale one', async () => {
    const current = (await call('GET', `${CONFIGMAPS}/settings`)).body;
    const updated = await call('PUT', `${CONFIGMAPS}/settings`, { ...current, data: { key: 'changed' } });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toEqual({ key: 'changed' });
    expect(Number(updated.body.metadata.resourceVersion)).toBeGreaterThan(
      Number(current.metadata.resourceVersion),
    );
    expect(updated.body.metadata.uid).toBe(current.metadata.uid);

    const stale = await call<Status>('PUT', `${CONFIGMAPS}/settings`, { ...current, data: { key: 'lost' } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ reason: 'Conflict', code: 409 });
    expect(stale.body.message).toContain('the object has been modified');
  });
});

describe('in-memory Kubernetes API fake: generation and the status subresource', () => {
  it('bumps generation on spec changes only, and a no-op write changes nothing', async () => {
    const created = (await call('POST', CAPS, policy('generation'))).body;
    expect(created.metadata.generation).toBe(1);

    const labelled = await call('PUT', `${CAPS}/generation`, {
      ...created,
      metadata: { ...created.metadata, labels: { team: 'a' } },
    });
    expect(labelled.body.metadata.generation).toBe(1);
    expect(labelled.body.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);

    const respec = await call(
      'PATCH',
      `${CAPS}/generation`,
      { spec: { timeoutSeconds: 20 } },
      PATCH_TYPES.merge,
    );
    expect(respec.body.metadata.generation).toBe(2);

    const noop = await call(
      'PATCH',
      `${CAPS}/generation`,
      { spec: { timeoutSeconds: 20 } },
      PATCH_TYPES.merge,
    );
    expect(noop.body.metadata.resourceVersion).toBe(respec.body.metadata.resourceVersion);
  });

  it('writes .status only through /status, and ignores it on the main resource', async () => {
    const created = (await call('POST', CAPS, { ...policy('status'), status: { policyStatus: 'active' } }))
      .body;
    expect(created.status).toBeUndefined();

    const statusPut = await call('PUT', `${CAPS}/status/status`, {
      ...created,
      spec: { ...(created.spec as object), timeoutSeconds: 30 },
      metadata: { ...created.metadata, labels: { ignored: 'yes' } },
      status: { policyStatus: 'pending' },
    });
    expect(statusPut.status).toBe(200);
    expect(statusPut.body.status).toEqual({ policyStatus: 'pending' });
    expect((statusPut.body.spec as { timeoutSeconds: number }).timeoutSeconds).toBe(10);
    expect(statusPut.body.metadata.labels).toBeUndefined();
    expect(statusPut.body.metadata.generation).toBe(1);

    const mainPatch = await call(
      'PATCH',
      `${CAPS}/status`,
      { status: { policyStatus: 'unscheduled' }, spec: { timeoutSeconds: 5 } },
      PATCH_TYPES.merge,
    );
    expect(mainPatch.body.status).toEqual({ policyStatus: 'pending' });
    expect((mainPatch.body.spec as { timeoutSeconds: number }).timeoutSeconds).toBe(5);

    const statusPatch = await call(
      'PATCH',
      `${CAPS}/status/status`,
      [{ op: 'replace', path: '/status/policyStatus', value: 'active' }],
      PATCH_TYPES.json,
    );
    expect(statusPatch.body.status).toEqual({ policyStatus: 'active' });
    expect(statusPatch.body.metadata.generation).toBe(2);

    const invalidStatus = await call<Status>(
      'PATCH',
      `${CAPS}/status/status`,
      { status: { policyStatus: 'bogus' } },
      PATCH_TYPES.merge,
    );
    expect(invalidStatus.status).toBe(422);
  });
});

describe('in-memory Kubernetes API fake: patches', () => {
  it('applies merge patches (null deletes) and JSON patches (client-node default), with a test op', async () => {
    await call('POST', CONFIGMAPS, configMap('patched', { annotations: { a: '1', b: '2' } }));
    const merged = await call(
      'PATCH',
      `${CONFIGMAPS}/patched`,
      { metadata: { labels: { l: 'x' }, annotations: { a: null } }, data: { more: 'yes' } },
      PATCH_TYPES.merge,
    );
    expect(merged.body.metadata.labels).toEqual({ l: 'x' });
    expect(merged.body.metadata.annotations).toEqual({ b: '2' });
    expect(merged.body.data).toEqual({ key: 'value', more: 'yes' });

    const jsonPatched = await call(
      'PATCH',
      `${CONFIGMAPS}/patched`,
      [
        { op: 'test', path: '/data/key', value: 'value' },
        { op: 'replace', path: '/data/key', value: 'new' },
        { op: 'remove', path: '/data/more' },
        { op: 'add', path: '/metadata/finalizers', value: [] },
        { op: 'add', path: '/metadata/finalizers/-', value: 'castellan.dev/cleanup' },
      ],
      PATCH_TYPES.json,
    );
    expect(jsonPatched.status).toBe(200);
    expect(jsonPatched.body.data).toEqual({ key: 'new' });
    expect(jsonPatched.body.metadata.finalizers).toEqual(['castellan.dev/cleanup']);

    const failedTest = await call<Status>(
      'PATCH',
      `${CONFIGMAPS}/patched`,
      [{ op: 'test', path: '/data/key', value: 'old' }],
      PATCH_TYPES.json,
    );
    expect(failedTest.status).toBe(422);
    const stalePatch = await call<Status>(
      'PATCH',
      `${CONFIGMAPS}/patched`,
      { metadata: { resourceVersion: '1' }, data: { x: 'y' } },
      PATCH_TYPES.merge,
    );
    expect(stalePatch.body.reason).toBe('Conflict');
    const missing = await call<Status>('PATCH', `${CONFIGMAPS}/nothing`, { data: {} }, PATCH_TYPES.merge);
    expect(missing.status).toBe(404);
    const strategicOnCr = await call<Status>('PATCH', `${CAPS}/status`, {}, PATCH_TYPES.strategic);
    expect(strategicOnCr.status).toBe(415);
    await call('PATCH', `${CONFIGMAPS}/patched`, { metadata: { finalizers: null } }, PATCH_TYPES.merge);
  });

  it('server-side apply creates, then merges, and records the field manager', async () => {
    const manifest = [
      'apiVersion: policies.castellan.dev/v1',
      'kind: PolicyServer',
      'metadata:',
      '  name: applied',
      'spec:',
      '  image: ghcr.io/castellan/evaluator:v1',
      '  replicas: 2',
    ].join('\n');
    const path = `${GROUP}/policyservers/applied?fieldManager=castellan-reconciler&force=true`;
    const created = await call('PATCH', path, manifest, PATCH_TYPES.apply);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.metadata.managedFields?.[0]).toMatchObject({
      manager: 'castellan-reconciler',
      operation: 'Apply',
    });
    const again = await call(
      'PATCH',
      path,
      manifest.replace('replicas: 2', 'replicas: 3'),
      PATCH_TYPES.apply,
    );
    expect(again.status).toBe(200);
    expect((again.body.spec as { replicas: number }).replicas).toBe(3);
    expect(again.body.metadata.generation).toBe(2);
    const same = await call('PATCH', path, manifest.replace('replicas: 2', 'replicas: 3'), PATCH_TYPES.apply);
    expect(same.body.metadata.resourceVersion).toBe(again.body.metadata.resourceVersion);

    const anonymous = await call<Status>(
      'PATCH',
      `${GROUP}/policyservers/applied`,
      manifest,
      PATCH_TYPES.apply,
    );
    expect(anonymous.status).toBe(422);
  });
});

describe('in-memory Kubernetes API fake: deletion, finalizers and owner garbage collection', () => {
  it('keeps an object with finalizers, marked with deletionTimestamp, until the last one goes', async () => {
    const created = (
      await call('POST', CAPS, {
        ...policy('finalized'),
        metadata: { name: 'finalized', finalizers: ['castellan.dev/a'] },
      })
    ).body;
    const events = await watch(`${CAPS}?watch=true&resourceVersion=${created.metadata.resourceVersion}`);

    const deleted = await call('DELETE', `${CAPS}/finalized`);
    expect(deleted.status).toBe(200);
    const { deletionTimestamp } = deleted.body.metadata;
    expect(deletionTimestamp).toBeDefined();
    expect((await call('GET', `${CAPS}/finalized`)).body.metadata.deletionTimestamp).toBe(deletionTimestamp);
    const twice = await call('DELETE', `${CAPS}/finalized`);
    expect(twice.body.metadata.deletionTimestamp).toBe(deletionTimestamp);

    const marked = await nextObjectEvent(events);
    expect(marked?.type).toBe('MODIFIED');
    expect(meta(marked).deletionTimestamp).toBe(deletionTimestamp);

    const addFinalizer = await call<Status>(
      'PATCH',
      `${CAPS}/finalized`,
      { metadata: { finalizers: ['castellan.dev/a', 'castellan.dev/b'] } },
      PATCH_TYPES.merge,
    );
    expect(addFinalizer.status).toBe(422);

    const released = await call(
      'PATCH',
      `${CAPS}/finalized`,
      { metadata: { finalizers: null } },
      PATCH_TYPES.merge,
    );
    expect(released.status).toBe(200);
    expect((await call('GET', `${CAPS}/finalized`)).status).toBe(404);
    const gone = await nextObjectEvent(events);
    expect(gone?.type).toBe('DELETED');
    expect(meta(gone).name).toBe('finalized');
  });

  it('deletes dependents of a deleted owner, and only drops the reference when another owner lives', async () => {
    const owner = (await call('POST', CAPS, policy('owner'))).body;
    const other = (await call('POST', CAPS, policy('other-owner'))).body;
    const ref = (o: StoredObject) => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name,
      uid: o.metadata.uid,
    });
    await call(
      'POST',
      CONFIGMAPS,
      configMap('owned', { ownerReferences: [{ ...ref(owner), controller: true }] }),
    );
    await call('POST', CONFIGMAPS, configMap('shared', { ownerReferences: [ref(owner), ref(other)] }));
    await call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'owned-secret', ownerReferences: [ref(owner)], finalizers: ['castellan.dev/keep'] },
    });

    expect((await call('DELETE', `${CAPS}/owner`)).status).toBe(200);
    expect((await call('GET', `${CONFIGMAPS}/owned`)).status).toBe(404);
    const shared = await call('GET', `${CONFIGMAPS}/shared`);
    expect(shared.body.metadata.ownerReferences?.map((r) => r.name)).toEqual(['other-owner']);
    const secret = await call('GET', '/api/v1/namespaces/default/secrets/owned-secret');
    expect(secret.body.metadata.deletionTimestamp).toBeDefined();

    await call('DELETE', `${CAPS}/other-owner`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Orphan',
    });
    const orphan = await call('GET', `${CONFIGMAPS}/shared`);
    expect(orphan.status).toBe(200);
    expect(orphan.body.metadata.ownerReferences).toBeUndefined();
  });
  it('deletes the contents of a deleted Namespace', async () => {
    await call('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'doomed' },
    });
    await call('POST', '/api/v1/namespaces/doomed/configmaps', configMap('inside'));
    expect((await call('DELETE', '/api/v1/namespaces/doomed')).status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/doomed/configmaps/inside')).status).toBe(404);
    expect((await call('GET', '/api/v1/namespaces/doomed')).status).toBe(404);
  });
});

describe('in-memory Kubernetes API fake: watch', () => {
  it('streams the changes after a resourceVersion, in order, with growing resourceVersions', async () => {
    await call('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'watched' },
    });
    const list = await call<{ metadata: { resourceVersion: string } }>(
      'GET',
      '/apis/policies.castellan.dev/v1/namespaces/watched/admissionpolicies',
    );
    const from = list.body.metadata.resourceVersion;
    const path = '/apis/policies.castellan.dev/v1/namespaces/watched/admissionpolicies';
    const body = { ...policy('ap'), kind: 'AdmissionPolicy' };
    expect((await call('POST', path, body)).status).toBe(201);
    await call('PATCH', `${path}/ap`, { metadata: { labels: { a: 'b' } } }, PATCH_TYPES.merge);
    await call('DELETE', `${path}/ap`);

    const events = await watch(
      `/apis/policies.castellan.dev/v1/admissionpolicies?watch=true&resourceVersion=${from}&allowWatchBookmarks=true`,
    );
    const seen: WatchEvent[] = [];
    for (let i = 0; i < 3; i++) {
      const event = await nextObjectEvent(events);
      if (event) seen.push(event);
    }
    expect(seen.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(seen.every((e) => meta(e).namespace === 'watched')).toBe(true);
    const versions = seen.map((e) => Number(meta(e).resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(versions[0]).toBeGreaterThan(Number(from));

    // Later writes arrive live on the same stream.
    await call('POST', path, body);
    expect((await nextObjectEvent(events))?.type).toBe('ADDED');
  });

  it('starts with ADDED for every object without a resourceVersion, and follows label selectors', async () => {
    await call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'selected', labels: { watch: 'me' } },
    });
    const events = await watch('/api/v1/namespaces/default/secrets?watch=true&labelSelector=watch%3Dme');
    const first = await nextObjectEvent(events);
    expect(first?.type).toBe('ADDED');
    expect(meta(first).name).toBe('selected');

    await call(
      'PATCH',
      '/api/v1/namespaces/default/secrets/selected',
      { metadata: { labels: null } },
      PATCH_TYPES.merge,
    );
    expect((await nextObjectEvent(events))?.type).toBe('DELETED');
    await call(
      'PATCH',
      '/api/v1/namespaces/default/secrets/selected',
      { metadata: { labels: { watch: 'me' } } },
      PATCH_TYPES.merge,
    );
    expect((await nextObjectEvent(events))?.type).toBe('ADDED');
  });

  it('sends BOOKMARK events carrying the current resourceVersion', async () => {
    const events = await watch(
      `${CAPS}?watch=true&resourceVersion=${api.store.resourceVersion}&allowWatchBookmarks=true`,
    );
    const bookmark = await events.next(1000);
    expect(bookmark?.type).toBe('BOOKMARK');
    expect(bookmark?.object).toMatchObject({
      kind: 'ClusterAdmissionPolicy',
      apiVersion: 'policies.castellan.dev/v1',
      metadata: { resourceVersion: api.store.resourceVersion },
    });
  });

  it('ends the stream after timeoutSeconds', async () => {
    const started = Date.now();
    const events = await watch(
      `${CAPS}?watch=true&resourceVersion=${api.store.resourceVersion}&timeoutSeconds=1`,
    );
    await events.ended;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('answers a resourceVersion older than the history with a 410 Expired ERROR event', async () => {
    const old = api.store.resourceVersion;
    const open = await watch(`${CAPS}?watch=true&resourceVersion=${old}`);
    await call('POST', CONFIGMAPS, configMap('after-expiry-point'));
    api.expireWatchHistory();

    const expiredOpen = await open.next();
    expect(expiredOpen?.type).toBe('ERROR');
    await open.ended;

    const late = await watch(`${CAPS}?watch=true&resourceVersion=${old}`);
    const error = await late.next();
    expect(error?.type).toBe('ERROR');
    expect(error?.object).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
    await late.ended;

    const fresh = await watch(`${CAPS}?watch=true&resourceVersion=${api.store.resourceVersion}`);
    await call('POST', CAPS, policy('after-expiry'));
    expect((await nextObjectEvent(fresh))?.type).toBe('ADDED');
  });

  it('expires resourceVersions that fell out of a bounded history window', async () => {
    const small = await startKubeApi({ historyLimit: 2 });
    try {
      const before = small.store.resourceVersion;
      for (const name of ['a', 'b', 'c']) small.store.seed(configMap(name, { namespace: 'default' }));
      const response = await fetch(`${small.url}${CONFIGMAPS}?watch=true&resourceVersion=${before}`);
      const lines = (await response.text()).trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ type: 'ERROR', object: { code: 410 } });
    } finally {
      await small.stop();
    }
  });
});

describe('in-memory Kubernetes API fake: custom resource schema', () => {
  it('refuses an invalid ClusterAdmissionPolicy with 422 Invalid and field causes', async () => {
    const reply = await call<Status>('POST', CAPS, policy('bad-mode', { mode: 'audit', timeoutSeconds: 99 }));
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
    expect(reply.body.message).toContain(
      'ClusterAdmissionPolicy.policies.castellan.dev "bad-mode" is invalid',
    );
    expect(reply.body.details?.causes?.map((c) => c.field)).toEqual(
      expect.arrayContaining(['spec.mode', 'spec.timeoutSeconds']),
    );
    const noSpec = await call<Status>('POST', CAPS, { ...policy('no-spec'), spec: undefined });
    expect(noSpec.status).toBe(422);
    expect((await call('GET', `${CAPS}/bad-mode`)).status).toBe(404);
  });

  it('applies the schema defaults', async () => {
    const created = (await call('POST', CAPS, policy('defaults'))).body;
    expect(created.spec).toMatchObject({
      policyServer: 'default',
      mode: 'protect',
      timeoutSeconds: 10,
      backgroundAudit: true,
      allowInsideAdmissionControllerNamespace: false,
    });
  });

  it('prunes unknown fields with a warning, and refuses them under fieldValidation=Strict', async () => {
    const pruned = await call('POST', CAPS, policy('unknown-field', { colour: 'blue' }));
    expect(pruned.status).toBe(201);
    expect(pruned.body.spec).not.toHaveProperty('colour');
    expect(pruned.headers.get('warning')).toContain('unknown field');
    const strict = await call<Status>(
      'POST',
      `${CAPS}?fieldValidation=Strict`,
      policy('strict', { colour: 'blue' }),
    );
    expect(strict.status).toBe(422);
  });
});

describe('in-memory Kubernetes API fake: Lease and Secret decoding and validation', () => {
  const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
  const SECRETS = '/api/v1/namespaces/default/secrets';
  const lease = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name },
    spec,
  });

  it('takes MicroTime with exactly six fractional digits, and refuses other times and non-integers with 400', async () => {
    const micro = '2026-11-02T10:00:00.123000Z';
    const created = await call(
      'POST',
      LEASES,
      lease('micro', { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: micro, acquireTime: micro }),
    );
    expect(created.status).toBe(201);
    expect(created.body.spec).toMatchObject({ renewTime: micro, acquireTime: micro });

    // What a plain Date serialises to (client-node's V1MicroTime pads it to six digits).
    const millis = await call<Status>(
      'POST',
      LEASES,
      lease('millis', { renewTime: '2026-11-02T10:00:00.123Z' }),
    );
    expect(millis.status).toBe(400);
    expect(millis.body).toMatchObject({ reason: 'BadRequest', code: 400 });
    expect(millis.body.message).toBe(
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-11-02T10:00:00.123Z" as ' +
        '"2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
    );
    const seconds = await call<Status>(
      'POST',
      LEASES,
      lease('seconds', { acquireTime: '2026-11-02T10:00:00Z' }),
    );
    expect(seconds.status).toBe(400);
    expect(seconds.body.message).toContain('cannot parse "Z" as ".000000"');

    const fractional = await call<Status>('POST', LEASES, lease('fractional', { leaseDurationSeconds: 0.6 }));
    expect(fractional.status).toBe(400);
    expect(fractional.body.message).toContain('cannot unmarshal number 0.6');
    const zero = await call<Status>('POST', LEASES, lease('zero', { leaseDurationSeconds: 0 }));
    expect(zero.status).toBe(422);
    expect(zero.body.details?.causes?.map((c) => c.field)).toEqual(['spec.leaseDurationSeconds']);

    const stale = await call<Status>('PUT', `${LEASES}/micro`, {
      ...created.body,
      spec: { ...(created.body.spec as object), renewTime: '2026-11-02T10:00:01.000Z' },
    });
    expect(stale.status).toBe(400);
    expect((await call('GET', `${LEASES}/micro`)).body.spec).toMatchObject({ renewTime: micro });
  });

  it('defaults a Secret to Opaque, folds stringData into data, and refuses bad base64 with 400', async () => {
    const created = await call('POST', SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'folded' },
      data: { a: Buffer.from('one').toString('base64') },
      stringData: { b: 'two' },
    });
    expect(created.status).toBe(201);
    expect(created.body.type).toBe('Opaque');
    expect(created.body.data).toEqual({ a: 'b25l', b: 'dHdv' });
    expect(created.body).not.toHaveProperty('stringData');

    const bad = await call<Status>('POST', SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bad-base64' },
      data: { pem: '-----BEGIN' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe(
      'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0',
    );
    const unpadded = await call<Status>('POST', SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'unpadded' },
      data: { key: 'b25' },
    });
    expect(unpadded.status).toBe(400);
  });

  it('requires tls.crt and tls.key in a kubernetes.io/tls Secret, and keeps a Secret type immutable', async () => {
    const missing = await call<Status>('POST', SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls-incomplete' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': 'Y2VydA==' },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.message).toBe('Secret "tls-incomplete" is invalid: data[tls.key]: Required value');

    const opaque = await call('GET', `${SECRETS}/folded`);
    const retyped = await call<Status>('PUT', `${SECRETS}/folded`, {
      ...opaque.body,
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' },
    });
    expect(retyped.status).toBe(422);
    expect(retyped.body.message).toBe(
      'Secret "folded" is invalid: type: Invalid value: "kubernetes.io/tls": field is immutable',
    );
    // An update that omits the type defaults it to Opaque, which is no change here.
    const untyped: Partial<StoredObject> = { ...opaque.body };
    delete untyped.type;
    expect((await call('PUT', `${SECRETS}/folded`, { ...untyped, data: { a: 'b25l' } })).status).toBe(200);
  });
});

describe('in-memory Kubernetes API fake: @kubernetes/client-node', () => {
  it('serves client-node with the kubeconfig it hands out (plain HTTP needs insecure-skip-tls-verify)', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(api.kubeconfig);
    expect(kubeConfig.getCurrentCluster()).toMatchObject({ server: api.url, skipTLSVerify: true });
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const namespace = await core.readNamespace({ name: 'kube-system' });
    expect(namespace.status?.phase).toBe('Active');
    const missing = await core
      .readNamespacedSecret({ name: 'absent', namespace: 'default' })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiException);
    expect((missing as ApiException<string>).code).toBe(404);
  });

  it("round-trips a Lease written with client-node's V1MicroTime, and refuses a plain Date with 400", async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(api.kubeconfig);
    const coordination = kubeConfig.makeApiClient(CoordinationV1Api);
    const at = Date.parse('2026-11-02T10:00:00.250Z');
    const created = await coordination.createNamespacedLease({
      namespace: 'default',
      body: {
        metadata: { name: 'client-node' },
        spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: new V1MicroTime(at) },
      },
    });
    // client-node hands MicroTime back as the string it read.
    expect(String(created.spec?.renewTime)).toBe('2026-11-02T10:00:00.250000Z');
    const refused = await coordination
      .replaceNamespacedLease({
        name: 'client-node',
        namespace: 'default',
        body: { ...created, spec: { ...created.spec, renewTime: new Date(at) } },
      })
      .catch((e: unknown) => e);
    expect((refused as ApiException<string>).code).toBe(400);
  });
});
