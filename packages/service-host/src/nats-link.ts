/**
 * Whether the gateway's NATS connection is up, from the connection's own status events. While it is
 * down no evaluation can reach a pool (nats.js would hold a request in its reconnect buffer until the
 * request times out), so the dispatcher answers at once by failure policy, requests in flight
 * included. Once it has been down longer than a grace, readiness fails, so that the API server's
 * calls go to a replica that has NATS; the grace rides out a server restart without flapping.
 */
import { performance } from 'node:perf_hooks';
import type { NatsConnection } from '@nats-io/nats-core';

export class NatsLink {
  /** `performance.now()` when the connection was lost; undefined while it is up. */
  private downSince: number | undefined;
  private readonly lossListeners = new Set<() => void>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly downGraceMs: number,
  ) {
    // Whatever ends the status stream, the link counts as lost (follow's finally).
    this.follow().catch(() => undefined);
  }

  get connected(): boolean {
    return this.downSince === undefined && !this.nc.isClosed();
  }

  /** Up, or down for less than the grace. */
  ready(): boolean {
    if (this.nc.isClosed()) return false;
    return this.downSince === undefined || performance.now() - this.downSince < this.downGraceMs;
  }

  /** Calls `listener` once, when the connection is next lost; returns what stops listening. */
  onceLost(listener: () => void): () => void {
    this.lossListeners.add(listener);
    return () => this.lossListeners.delete(listener);
  }

  private async follow(): Promise<void> {
    try {
      // The iteration ends when the connection closes.
      for await (const status of this.nc.status()) {
        if (status.type === 'disconnect') this.lost();
        else if (status.type === 'reconnect') this.downSince = undefined;
      }
    } finally {
      this.lost();
    }
  }

  private lost(): void {
    this.downSince ??= performance.now();
    const listeners = [...this.lossListeners];
    this.lossListeners.clear();
    for (const listener of listeners) listener();
  }
}
