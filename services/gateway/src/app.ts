/**
 * Builds the gateway from its dependencies: the HTTPS webhook listener (HTTP/1.1 and HTTP/2, TLS
 * material hot-reloaded, optional client-certificate authentication) and the plain-HTTP readiness
 * and metrics listener. `main.ts` supplies the NATS-backed routes and dispatcher.
 */
import { messageOf } from '@castellan/proto';
import { once } from 'node:events';
import { createSecureServer } from 'node:http2';
import type { Http2SecureServer } from 'node:http2';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { AdmissionHandler } from './admission-handler.js';
import type { GatewayConfig } from './config.js';
import { ConnectionTracker } from './connection-tracker.js';
import type { EvaluationDispatcher, PolicyRoutes } from './dispatch.js';
import { GatewayError, GatewayErrorCode } from './errors.js';
import { sendError } from './http-answer.js';
import type { GatewayRequest, GatewayResponse } from './http-answer.js';
import { GatewayMetrics } from './metrics.js';
import { createReadinessServer } from './readiness-server.js';
import { RequestAbortedError } from './request-body.js';
import { RequestMemoryBudget } from './request-memory.js';
import { loadTlsMaterial, secureContextOptions } from './tls-material.js';
import type { TlsFiles } from './tls-material.js';
import { TlsReloader } from './tls-reloader.js';

/** How long `close()` lets in-flight requests finish before cutting the connections. */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;
/** How often Node checks the HTTP/1.1 connections still receiving headers (at most). */
const HTTP1_HEADERS_CHECK_INTERVAL_MS = 1_000;

export interface GatewayDependencies {
  config: GatewayConfig;
  routes: PolicyRoutes;
  dispatcher: EvaluationDispatcher;
  logger: Logger;
  /** Readiness beyond "the HTTPS listener is bound" (e.g. the policy KV is replicated). Default: ready. */
  isReady?: () => boolean;
  /** Where the gateway registers its metrics; `main.ts` may add its own. Default: a new registry. */
  registry?: Registry;
  tlsReload?: { debounceMs?: number; pollIntervalMs?: number };
  closeGraceMs?: number;
}

/** Where the two listeners are bound. */
export interface GatewayPorts {
  address: string;
  port: number;
  readinessAddress: string;
  readinessPort: number;
}

export interface Gateway {
  /** Loads the TLS material (throws `CASTELLAN_GATEWAY_TLS_MATERIAL_INVALID`), binds both listeners. */
  listen(): Promise<GatewayPorts>;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), stops watching files. */
  close(): Promise<void>;
  readonly registry: Registry;
}

export function buildGateway(dependencies: GatewayDependencies): Gateway {
  const { config, logger } = dependencies;
  const registry = dependencies.registry ?? new Registry();
  const memory = new RequestMemoryBudget(config.maxRequestBytesInFlight);
  const handler = new AdmissionHandler({
    routes: dependencies.routes,
    dispatcher: dependencies.dispatcher,
    metrics: new GatewayMetrics(registry, () => memory.heldBytes),
    logger,
    alwaysAcceptNamespace: config.alwaysAcceptNamespace,
    defaultTimeoutSeconds: config.defaultTimeoutSeconds,
    requestTimeoutMs: config.requestTimeoutMs,
    memory,
  });
  const files: TlsFiles = {
    certFile: config.tlsCertFile,
    keyFile: config.tlsKeyFile,
    clientCaFiles: config.clientCaFiles,
  };
  const tracker = new ConnectionTracker();
  let server: Http2SecureServer | undefined;
  let readiness: HttpServer | undefined;
  let reloader: TlsReloader | undefined;
  let bound = false;
  let closed = false;

  const onRequest = (request: GatewayRequest, response: GatewayResponse): void => {
    tracker.track(request, response);
    handler.handle(request, response).catch((error: unknown) => {
      if (error instanceof RequestAbortedError) {
        logger.debug({ err: error.message }, 'request abandoned by the client');
        response.destroy();
        return;
      }
      logger.error({ err: messageOf(error), url: request.url }, 'answering a webhook request failed');
      if (response.headersSent) response.destroy();
      else sendError(response, 500, 'Something went wrong');
    });
  };

  const close = async (): Promise<void> => {
    closed = true;
    tracker.drain();
    reloader?.close();
    const closing: Promise<unknown>[] = [];
    if (server !== undefined) closing.push(closeServer(server));
    if (readiness !== undefined) {
      closing.push(closeServer(readiness));
      readiness.closeAllConnections();
    }
    const cut = setTimeout(() => tracker.destroyAll(), dependencies.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    try {
      await Promise.all(closing);
    } finally {
      clearTimeout(cut);
      bound = false;
      server = undefined;
      readiness = undefined;
    }
  };

  return {
    registry,
    close,
    async listen(): Promise<GatewayPorts> {
      if (server !== undefined || closed) throw new Error('a gateway listens once: build another');
      const material = await loadTlsMaterial(files);
      const authenticateClients = material.clientCas.length > 0;
      const https = createSecureServer({
        ...secureContextOptions(material),
        allowHTTP1: true,
        // Like policy-server's --client-ca-file: with client CAs, a client certificate is mandatory.
        requestCert: authenticateClients,
        rejectUnauthorized: authenticateClients,
      });
      // HTTP/1.1 goes through Node's HTTP/1 parser: it bounds the time to receive the headers, and
      // answers a bare 408. The body is bounded by readRequestBody, which answers a JSON 408 on both
      // protocols, so Node's own whole-request timer (which would cut it first, bare) is off.
      Object.assign(https, {
        headersTimeout: config.requestTimeoutMs,
        requestTimeout: 0,
        connectionsCheckingInterval: Math.min(HTTP1_HEADERS_CHECK_INTERVAL_MS, config.requestTimeoutMs),
      });
      server = https;
      tracker.attach(https);
      https.on('request', onRequest);
      // Node's HTTP/2 server, unlike its HTTP/1 server, leaves Nagle's algorithm on: an answer
      // written while the client's ACK is delayed waited up to 40 ms (bench/gateway-load.mjs).
      https.on('connection', (socket: Socket) => socket.setNoDelay(true));
      https.on('tlsClientError', (error: Error) =>
        logger.debug({ err: error.message }, 'TLS handshake failed'),
      );
      https.on('sessionError', (error: Error) =>
        logger.debug({ err: error.message }, 'HTTP/2 session error'),
      );
      try {
        const webhook = await listenOn(https, config.port, config.address, 'webhook');
        reloader = new TlsReloader({
          files,
          initial: material,
          apply: (next) => https.setSecureContext(secureContextOptions(next)),
          logger,
          ...dependencies.tlsReload,
        });
        await reloader.start();
        bound = true;
        const isReady = dependencies.isReady ?? (() => true);
        readiness = createReadinessServer({
          isReady: () => bound && !tracker.closing && isReady(),
          registry,
          logger,
        });
        const side = await listenOn(readiness, config.readinessPort, config.readinessAddress, 'readiness');
        const ports: GatewayPorts = {
          address: webhook.address,
          port: webhook.port,
          readinessAddress: side.address,
          readinessPort: side.port,
        };
        logger.info(
          { ...ports, clientAuth: authenticateClients, ...material.description },
          'gateway listening',
        );
        return ports;
      } catch (error) {
        await close();
        throw error;
      }
    },
  };
}

async function listenOn(
  server: Http2SecureServer | HttpServer,
  port: number,
  address: string,
  name: string,
): Promise<AddressInfo> {
  try {
    server.listen(port, address);
    await once(server, 'listening');
  } catch (error) {
    throw new GatewayError(
      GatewayErrorCode.ListenFailed,
      `cannot listen for ${name} requests on ${address}:${port}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return server.address() as AddressInfo;
}

function closeServer(server: Http2SecureServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
