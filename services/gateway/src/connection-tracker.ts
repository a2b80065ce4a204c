/**
 * What a graceful close needs to know about the HTTPS listener's connections. `server.close()` alone
 * waits forever for idle keep-alive connections, and HTTP/2 sessions accept new streams until they
 * are told to go away; so on close, HTTP/2 sessions get a GOAWAY (in-flight streams finish), idle
 * HTTP/1.1 connections are closed at once and busy ones right after their answer.
 */
import type { Socket } from 'node:net';
import type { Http2SecureServer, Http2Session } from 'node:http2';
import type { GatewayRequest, GatewayResponse } from './http-answer.js';

export class ConnectionTracker {
  /** HTTP/1.1 connections and how many requests each is answering. */
  private readonly http1 = new Map<Socket, number>();
  private readonly sessions = new Set<Http2Session>();
  private draining = false;

  attach(server: Http2SecureServer): void {
    server.on('secureConnection', (socket: Socket & { alpnProtocol?: string | false }) => {
      if (socket.alpnProtocol === 'h2') return;
      this.http1.set(socket, 0);
      socket.once('close', () => this.http1.delete(socket));
    });
    server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      if (this.draining) session.close();
    });
  }

  get closing(): boolean {
    return this.draining;
  }

  /** Called for every request; an HTTP/1.1 connection answering while the server drains closes after. */
  track(request: GatewayRequest, response: GatewayResponse): void {
    if (request.httpVersionMajor === 2) return;
    const socket = request.socket;
    this.http1.set(socket, (this.http1.get(socket) ?? 0) + 1);
    if (this.draining && !response.headersSent) response.setHeader('connection', 'close');
    response.once('close', () => {
      const busy = (this.http1.get(socket) ?? 1) - 1;
      if (this.http1.has(socket)) this.http1.set(socket, busy);
      if (this.draining && busy === 0) socket.end();
    });
  }

  /** Stops new work on existing connections; the server itself stops accepting separately. */
  drain(): void {
    this.draining = true;
    for (const session of this.sessions) session.close();
    for (const [socket, busy] of this.http1) if (busy === 0) socket.end();
  }

  /** Past the grace period: cut whatever is still open. */
  destroyAll(): void {
    for (const session of this.sessions) session.destroy();
    for (const socket of this.http1.keys()) socket.destroy();
  }
}
