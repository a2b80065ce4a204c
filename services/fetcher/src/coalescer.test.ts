import { describe, expect, it } from 'vitest';
import { Coalescer } from './coalescer.js';

describe('Coalescer', () => {
  it('shares one running task between callers of the same key, and not across keys', async () => {
    const coalescer = new Coalescer<number>();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const task = async () => {
      runs += 1;
      await gate;
      return runs;
    };
    const same = [coalescer.run('a', task), coalescer.run('a', task), coalescer.run('a', task)];
    const other = coalescer.run('b', task);
    expect(coalescer.size).toBe(2);
    release();
    expect(await Promise.all(same)).toEqual([2, 2, 2]);
    expect(await other).toBe(2);
    expect(runs).toBe(2);
  });

  it('forgets a key once its task settles, failures included', async () => {
    const coalescer = new Coalescer<string>();
    await expect(coalescer.run('a', () => Promise.reject(new Error('registry down')))).rejects.toThrow(
      'registry down',
    );
    expect(coalescer.size).toBe(0);
    expect(await coalescer.run('a', () => Promise.resolve('ok'))).toBe('ok');
  });
});
