// The HTTP front of the fake: request parsing, routing to discovery or the store, Status errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { coreVersions, groupDocument, groupList, resourceList, VERSION_INFO } from './discovery.js';
import { KubeApiError, badRequest } from './errors.js';
import type { ResourceRegistry } from './registry.js';
import type { Route } from './routes.js';
import { routeOf } from './routes.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { DeleteOptions, ObjectStore, WriteOptions, WriteResult } from './store.js';
import type { KubeObject, StoredObject } from './types.js';
import { apiVersionOf, isPlainObject } from './types.js';
import { serveWatch } from './watch-stream.js';

/** The API server's default request-body limit. */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** One request as the fake saw it, for assertions such as "the second reconcile wrote nothing". */
export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  status: number;
}

export interface ServerContext {
  registry: ResourceRegistry;
  store: ObjectStore;
  serverAddress: string;
  bookmarkIntervalMs: number;
  requests: RecordedRequest[];
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > MAX_BODY_BYTES)
        reject(new KubeApiError(413, 'RequestEntityTooLarge', 'request is too large'));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, warnings: string[] = []): void {
  const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json' };
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  response.writeHead(status, headers);
  response.end(JSON.stringify(body));
}

function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`invalid JSON: ${(error as Error).message}`);
  }
}

function writeOptions(query: URLSearchParams, subresource: 'status' | undefined): WriteOptions {
  if (query.has('dryRun')) throw badRequest('dryRun is not supported by the in-memory API server fake');
  const fieldManager = query.get('fieldManager');
  return {
    ...(fieldManager ? { fieldManager } : {}),
    strict: query.get('fieldValidation') === 'Strict',
    ...(subresource ? { subresource } : {}),
  };
}

function deleteOptions(query: URLSearchParams, body: string): DeleteOptions {
  const parsed: unknown = body.trim() === '' ? {} : parseJsonBody(body);
  const options = isPlainObject(parsed) ? parsed : {};
  const policy = query.get('propagationPolicy') ?? options.propagationPolicy;
  const preconditions = isPlainObject(options.preconditions) ? options.preconditions : {};
  return {
    ...(policy === 'Orphan' || policy === 'Background' || policy === 'Foreground'
      ? { propagationPolicy: policy }
      : {}),
    preconditions: {
      ...(typeof preconditions.uid === 'string' ? { uid: preconditions.uid } : {}),
      ...(typeof preconditions.resourceVersion === 'string'
        ? { resourceVersion: preconditions.resourceVersion }
        : {}),
    },
  };
}

/** `limit`/`continue` over the key-ordered list; the token is the last key served. */
function paginate(items: StoredObject[], query: URLSearchParams): { items: StoredObject[]; next?: string } {
  const after = query.get('continue');
  const keyOf = (o: StoredObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  let remaining = items;
  if (after) {
    const last = Buffer.from(after, 'base64url').toString('utf8');
    remaining = items.filter((item) => keyOf(item) > last);
  }
  const limit = Number(query.get('limit') ?? '0');
  if (!limit || remaining.length <= limit) return { items: remaining };
  const page = remaining.slice(0, limit);
  const lastItem = page[page.length - 1];
  return { items: page, ...(lastItem ? { next: Buffer.from(keyOf(lastItem)).toString('base64url') } : {}) };
}

function serveResource(
  context: ServerContext,
  route: Extract<Route, { kind: 'resource' }>,
  method: string,
  query: URLSearchParams,
  body: string,
  contentType: string,
  response: ServerResponse,
): void {
  const { store } = context;
  const { type, namespace, name, subresource } = route;
  const respond = (status: number, result: WriteResult): void =>
    sendJson(response, status, result.object, result.warnings);

  if (name === undefined) {
    if (method === 'GET') {
      const labels = parseLabelSelector(query.get('labelSelector'));
      const fields = parseFieldSelector(query.get('fieldSelector'));
      const predicate = (object: KubeObject): boolean => labels(object) && fields(object);
      const watch = query.get('watch');
      if (watch === 'true' || watch === '1') {
        const timeout = query.get('timeoutSeconds');
        serveWatch(
          store,
          {
            type,
            namespace,
            predicate,
            resourceVersion: query.get('resourceVersion'),
            allowBookmarks: query.get('allowWatchBookmarks') === 'true',
            timeoutSeconds: timeout === null ? undefined : Number(timeout),
          },
          response,
          context.bookmarkIntervalMs,
        );
        return;
      }
      const resourceVersion = store.resourceVersion;
      const page = paginate(store.list(type, namespace, predicate), query);
      sendJson(response, 200, {
        kind: type.listKind,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion, ...(page.next ? { continue: page.next } : {}) },
        items: page.items,
      });
      return;
    }
    if (method === 'POST') {
      respond(201, store.create(type, namespace, parseJsonBody(body), writeOptions(query, undefined)));
      return;
    }
    throw new KubeApiError(405, 'MethodNotAllowed', `${method} is not supported on a collection by the fake`);
  }

  switch (method) {
    case 'GET':
      sendJson(response, 200, store.get(type, namespace, name));
      return;
    case 'PUT':
      respond(
        200,
        store.replace(type, namespace, name, parseJsonBody(body), writeOptions(query, subresource)),
      );
      return;
    case 'PATCH': {
      const options = { ...writeOptions(query, subresource) };
      const result = store.patch(type, namespace, name, contentType, body, options);
      respond(result.created ? 201 : 200, result);
      return;
    }
    case 'DELETE':
      if (subresource)
        throw new KubeApiError(405, 'MethodNotAllowed', 'DELETE is not supported on a subresource');
      sendJson(response, 200, store.delete(type, namespace, name, deleteOptions(query, body)));
      return;
    default:
      throw new KubeApiError(405, 'MethodNotAllowed', `${method} is not supported`);
  }
}

function serveDiscovery(context: ServerContext, route: Exclude<Route, { kind: 'resource' }>): unknown {
  switch (route.kind) {
    case 'version':
      return VERSION_INFO;
    case 'health':
      return undefined;
    case 'core-versions':
      return coreVersions(context.serverAddress);
    case 'groups':
      return groupList(context.registry);
    case 'group':
      return groupDocument(context.registry, route.group);
    case 'resource-list':
      return resourceList(context.registry, route.group, route.version);
  }
}

function notFoundPath(): KubeApiError {
  return new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');
}

export async function handleRequest(
  context: ServerContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://fake');
  const method = request.method ?? 'GET';
  const contentType = request.headers['content-type']?.split(';')[0]?.trim();
  response.on('finish', () =>
    context.requests.push({
      method,
      path: url.pathname,
      query: url.search,
      contentType,
      status: response.statusCode,
    }),
  );
  try {
    const body = await readBody(request);
    const route = routeOf(context.registry, url.pathname);
    if (!route) throw notFoundPath();
    if (route.kind === 'health') {
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    } else if (route.kind === 'resource') {
      serveResource(context, route, method, url.searchParams, body, contentType ?? '', response);
    } else {
      if (method !== 'GET') throw new KubeApiError(405, 'MethodNotAllowed', `${method} is not supported`);
      const document = serveDiscovery(context, route);
      if (document === undefined) throw notFoundPath();
      sendJson(response, 200, document);
    }
  } catch (error) {
    const failure =
      error instanceof KubeApiError
        ? error
        : new KubeApiError(500, 'InternalError', `fake API server: ${(error as Error).message}`);
    if (response.headersSent) response.destroy(failure);
    else sendJson(response, failure.code, failure.toStatus());
  }
}
