import { describe, expect, it } from 'vitest';
import { LruMap } from './lru-map.js';

describe('LruMap', () => {
  it('keeps at most its capacity, forgetting the least recently used entry', () => {
    const evicted: string[] = [];
    const map = new LruMap<string, number>(2, (value, key) => evicted.push(`${key}=${value}`));
    map.set('a', 1);
    map.set('b', 2);
    expect(map.get('a')).toBe(1); // a is now the most recently used
    map.set('c', 3);
    expect(evicted).toEqual(['b=2']);
    expect(map.size).toBe(2);
    expect(map.get('b')).toBeUndefined();
    expect([map.get('a'), map.get('c')]).toEqual([1, 3]);
  });

  it('replacing a key refreshes it without evicting anything', () => {
    const evicted: string[] = [];
    const map = new LruMap<string, number>(2, (_value, key) => evicted.push(key));
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 10);
    map.set('c', 3);
    expect(evicted).toEqual(['b']);
    expect(map.get('a')).toBe(10);
  });

  it('stays bounded however many distinct keys arrive', () => {
    let evictions = 0;
    const map = new LruMap<number, number>(16, () => evictions++);
    for (let key = 0; key < 10_000; key++) map.set(key, key);
    expect(map.size).toBe(16);
    expect(evictions).toBe(10_000 - 16);
    expect(map.get(9_999)).toBe(9_999);
    expect(map.get(0)).toBeUndefined();
  });

  it('clear hands back every value without calling onEvict', () => {
    let evictions = 0;
    const map = new LruMap<string, number>(4, () => evictions++);
    map.set('a', 1);
    map.set('b', 2);
    expect(map.clear()).toEqual([1, 2]);
    expect(map.size).toBe(0);
    expect(evictions).toBe(0);
  });
});
