import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles up to its ceiling and starts over when reset', () => {
    const backoff = new Backoff(100, 350);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 350, 350]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
