/**
 * The plain-HTTP side port: `GET /readiness` for the kubelet (200 with an empty body once the webhook
 * listener is bound and the injected check passes, like policy-server's) and `GET /metrics` for
 * Prometheus.
 */
import { messageOf } from '@castellan/proto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';

export interface ReadinessServerOptions {
  isReady: () => boolean;
  registry: Registry;
  logger: Logger;
}

export function createReadinessServer({ isReady, registry, logger }: ReadinessServerOptions): Server {
  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://readiness.invalid').pathname;
    if (path !== '/readiness' && path !== '/metrics') return end(response, 404);
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return end(response, 405, { allow: 'GET, HEAD' });
    if (path === '/readiness') return end(response, isReady() ? 200 : 503);
    const text = await registry.metrics();
    response.writeHead(200, {
      'content-type': registry.contentType,
      'content-length': Buffer.byteLength(text),
    });
    response.end(request.method === 'HEAD' ? undefined : text);
  };
  return createServer((request, response) => {
    answer(request, response).catch((error: unknown) => {
      logger.error({ err: messageOf(error) }, 'readiness server failed to answer');
      if (!response.headersSent) end(response, 500);
      else response.destroy();
    });
  });
}

function end(response: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...headers, 'content-length': 0 });
  response.end();
}
