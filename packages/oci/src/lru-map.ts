/**
 * A map that keeps at most `capacity` entries: setting one more forgets the least recently used
 * entry and hands it to `onEvict` (to close its connections, say).
 */
export class LruMap<K, V> {
  // A Map iterates in insertion order: re-inserting an entry on use keeps the oldest first.
  readonly #entries = new Map<K, V>();

  constructor(
    private readonly capacity: number,
    private readonly onEvict: (value: V, key: K) => void = () => undefined,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    if (!this.#entries.has(key)) return undefined;
    const value = this.#entries.get(key) as V;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size <= this.capacity) return;
    const [oldestKey, oldest] = this.#entries.entries().next().value as [K, V];
    this.#entries.delete(oldestKey);
    this.onEvict(oldest, oldestKey);
  }

  /** Empties the map, handing back what it held; nothing is passed to `onEvict`. */
  clear(): V[] {
    const values = [...this.#entries.values()];
    this.#entries.clear();
    return values;
  }
}
