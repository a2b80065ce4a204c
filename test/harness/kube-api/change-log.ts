// The retained window of changes and the open watches they fan out to. Changes older than the
// window are compacted away: a watch from before it gets an ERROR event with a 410 Expired Status.
import type { Status } from './errors.js';
import { expired } from './errors.js';
import type { ObjectPredicate } from './selectors.js';
import type { KubeObject, StoredObject } from './types.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: ChangeType | 'BOOKMARK' | 'ERROR';
  object: KubeObject | Status;
}

export interface Change {
  resourceVersion: number;
  typeKey: string;
  type: ChangeType;
  object: StoredObject;
  /** The object before a MODIFIED change, to tell watches whose selector it left or entered. */
  previous?: StoredObject;
}

export interface WatchFilter {
  typeKey: string;
  /** Undefined watches every namespace (or a cluster-scoped type). */
  namespace?: string;
  predicate: ObjectPredicate;
}

export interface WatchSink {
  send(event: WatchEvent): void;
  /** Ends the stream cleanly. */
  end(): void;
  /** Drops the connection as a network failure would. */
  abort(): void;
}

interface Watcher {
  filter: WatchFilter;
  sink: WatchSink;
}

function visible(filter: WatchFilter, object: StoredObject | undefined): boolean {
  if (!object) return false;
  if (filter.namespace !== undefined && object.metadata.namespace !== filter.namespace) return false;
  return filter.predicate(object);
}

/** What a watch with `filter` sees of `change`: selector exits are DELETED, entries ADDED. */
function eventFor(filter: WatchFilter, change: Change): WatchEvent | undefined {
  if (change.typeKey !== filter.typeKey) return undefined;
  const now = visible(filter, change.object);
  if (change.type !== 'MODIFIED') return now ? { type: change.type, object: change.object } : undefined;
  const before = visible(filter, change.previous);
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: change.object };
  return before ? { type: 'DELETED', object: change.object } : undefined;
}

export class ChangeLog {
  #changes: Change[] = [];
  #compactedAt: number;
  readonly #watchers = new Set<Watcher>();

  constructor(
    private readonly limit: number,
    startResourceVersion: number,
  ) {
    this.#compactedAt = startResourceVersion;
  }

  record(change: Change): void {
    this.#changes.push(change);
    while (this.#changes.length > this.limit) {
      const dropped = this.#changes.shift();
      if (dropped) this.#compactedAt = dropped.resourceVersion;
    }
    for (const watcher of this.#watchers) {
      const event = eventFor(watcher.filter, change);
      if (event) watcher.sink.send(event);
    }
  }

  /**
   * Replays the retained changes after `since`, then keeps `sink` posted. Throws 410 Expired when
   * changes after `since` were compacted away. Returns the unsubscribe function.
   */
  subscribe(filter: WatchFilter, sink: WatchSink, since: number): () => void {
    if (since < this.#compactedAt) {
      throw expired(`too old resource version: ${since} (${this.#compactedAt})`);
    }
    for (const change of this.#changes) {
      if (change.resourceVersion <= since) continue;
      const event = eventFor(filter, change);
      if (event) sink.send(event);
    }
    const watcher = { filter, sink };
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  /** Forgets every change up to `resourceVersion`; open watches get a 410 ERROR event and end. */
  compact(resourceVersion: number, closeWatches: boolean): void {
    this.#changes = this.#changes.filter((change) => change.resourceVersion > resourceVersion);
    this.#compactedAt = Math.max(this.#compactedAt, resourceVersion);
    if (!closeWatches) return;
    const status = expired(`too old resource version: ${resourceVersion} (${this.#compactedAt})`).toStatus();
    for (const watcher of [...this.#watchers]) {
      watcher.sink.send({ type: 'ERROR', object: status });
      watcher.sink.end();
    }
  }

  get openWatches(): number {
    return this.#watchers.size;
  }

  endAll(): void {
    for (const watcher of [...this.#watchers]) watcher.sink.end();
  }

  abortAll(): void {
    for (const watcher of [...this.#watchers]) watcher.sink.abort();
  }
}
