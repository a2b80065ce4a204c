// A watch over HTTP: newline-delimited JSON events, periodic BOOKMARKs on request, ended by
// timeoutSeconds. A resourceVersion older than the retained window gets one ERROR event (410).
import type { ServerResponse } from 'node:http';
import type { WatchEvent, WatchSink } from './change-log.js';
import { KubeApiError, badRequest } from './errors.js';
import type { ObjectPredicate } from './selectors.js';
import type { ObjectStore } from './store.js';
import type { ResourceType } from './types.js';
import { apiVersionOf } from './types.js';
import { typeKey } from './registry.js';

export interface WatchRequest {
  type: ResourceType;
  namespace: string | undefined;
  predicate: ObjectPredicate;
  /** Absent, '' or '0': start with ADDED events for every current object. */
  resourceVersion: string | null;
  allowBookmarks: boolean;
  timeoutSeconds: number | undefined;
}

export function serveWatch(
  store: ObjectStore,
  request: WatchRequest,
  response: ServerResponse,
  bookmarkIntervalMs: number,
): void {
  const { type, namespace, predicate } = request;
  const fromNow = !request.resourceVersion || request.resourceVersion === '0';
  const since = fromNow ? Number(store.resourceVersion) : Number(request.resourceVersion);
  if (!Number.isSafeInteger(since) || since < 0) {
    throw badRequest(`invalid resourceVersion ${JSON.stringify(request.resourceVersion)}`);
  }
  response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  // Clients (fetch, client-node) wait for the headers before reading: send them before any event.
  response.flushHeaders();
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = (): void => {};
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
  };
  const sink: WatchSink = {
    send(event: WatchEvent) {
      if (!closed) response.write(`${JSON.stringify(event)}\n`);
    },
    end() {
      close();
      response.end();
    },
    abort() {
      close();
      response.destroy();
    },
  };
  response.on('close', close);

  if (fromNow) {
    for (const object of store.list(type, namespace, predicate)) sink.send({ type: 'ADDED', object });
  }
  try {
    unsubscribe = store.changes.subscribe({ typeKey: typeKey(type), namespace, predicate }, sink, since);
  } catch (error) {
    if (!(error instanceof KubeApiError)) throw error;
    sink.send({ type: 'ERROR', object: error.toStatus() });
    sink.end();
    return;
  }
  if (request.allowBookmarks) {
    const bookmark = (): void =>
      sink.send({
        type: 'BOOKMARK',
        object: {
          kind: type.kind,
          apiVersion: apiVersionOf(type),
          metadata: { resourceVersion: store.resourceVersion },
        },
      });
    timers.push(setInterval(bookmark, bookmarkIntervalMs));
  }
  if (request.timeoutSeconds !== undefined) {
    timers.push(setTimeout(() => sink.end(), request.timeoutSeconds * 1000));
  }
}
