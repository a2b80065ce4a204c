import { describe, expect, it } from 'vitest';
import { RequestMemoryBudget } from './request-memory.js';

describe('RequestMemoryBudget', () => {
  it('grants leases up to the cap, across requests', () => {
    const budget = new RequestMemoryBudget(100);
    const first = budget.lease();
    const second = budget.lease();
    expect(first.hold(60)).toBe(true);
    expect(second.hold(40)).toBe(true);
    expect(budget.heldBytes).toBe(100);
    expect(second.hold(41)).toBe(false);
    expect(budget.heldBytes).toBe(100);
  });

  it('grows a lease by the difference only, and never shrinks it', () => {
    const budget = new RequestMemoryBudget(100);
    const lease = budget.lease();
    expect(lease.hold(30)).toBe(true);
    expect(lease.hold(80)).toBe(true);
    expect(lease.hold(10)).toBe(true);
    expect(budget.heldBytes).toBe(80);
  });

  it('gives every byte back once, whatever was held', () => {
    const budget = new RequestMemoryBudget(100);
    const lease = budget.lease();
    lease.hold(70);
    expect(budget.lease().hold(31)).toBe(false);
    lease.release();
    lease.release();
    expect(budget.heldBytes).toBe(0);
    expect(budget.lease().hold(100)).toBe(true);
  });
});
