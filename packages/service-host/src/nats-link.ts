import { performance } from 'node:perf_hooks';
import type { NatsConnection } from '@nats-io/nats-core';

/**
 * Whether a NATS connection is up, from the connection's own status events. While it is down, a
 * request cannot be answered: nats.js holds it in its reconnect buffer, and drops what it sent
 * across a reconnect, so a caller would wait out its whole timeout for a reply that cannot come.
 * `whileLinked` lets the caller give up at once instead.
 */
export class NatsLink {
  /** `performance.now()` when the connection was lost; undefined while it is up. */
  private downSince: number | undefined;
  private readonly lossListeners = new Set<() => void>();

  constructor(private readonly nc: NatsConnection) {
    // Whatever ends the status stream, the link counts as lost (follow's finally).
    this.follow().catch(() => undefined);
  }

  get connected(): boolean {
    return this.downSince === undefined && !this.nc.isClosed();
  }

  /** Up, or down for less than `graceMs`: a restart of the server is ridden out without flapping. */
  ready(graceMs: number): boolean {
    if (this.nc.isClosed()) return false;
    return this.downSince === undefined || performance.now() - this.downSince < graceMs;
  }

  /** What `work` gives, or 'lost' at once when the connection is down or as soon as it goes down. */
  async whileLinked<T>(work: () => Promise<T>): Promise<T | 'lost'> {
    if (!this.connected) return 'lost';
    let stopListening = (): void => undefined;
    const lost = new Promise<'lost'>((resolve) => {
      const listener = () => resolve('lost');
      this.lossListeners.add(listener);
      stopListening = () => this.lossListeners.delete(listener);
    });
    try {
      return await Promise.race([work(), lost]);
    } finally {
      stopListening();
    }
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
