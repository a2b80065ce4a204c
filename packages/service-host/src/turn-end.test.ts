import { describe, expect, it } from 'vitest';
import { untilTurnEnds } from './turn-end.js';

describe('untilTurnEnds', () => {
  it('resumes every caller of one turn together, in the check phase of that turn', async () => {
    const order: string[] = [];
    const callers = [
      untilTurnEnds().then(() => order.push('first')),
      untilTurnEnds().then(() => order.push('second')),
    ];
    setImmediate(() => order.push('immediate scheduled after them'));
    setTimeout(() => order.push('next turn'), 0);
    await Promise.all(callers);
    expect(order).toEqual(['first', 'second']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(order).toEqual(['first', 'second', 'immediate scheduled after them', 'next turn']);
  });

  it('gives callers of a later turn a turn of their own', async () => {
    const first = untilTurnEnds();
    expect(untilTurnEnds()).toBe(first);
    await first;
    const later = untilTurnEnds();
    expect(later).not.toBe(first);
    await later;
  });
});
