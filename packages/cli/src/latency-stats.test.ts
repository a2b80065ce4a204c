import { describe, expect, it } from 'vitest';
import { formatMicros, summarise } from './latency-stats.js';

describe('summarise', () => {
  it('computes mean and nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarise(samples)).toEqual({ samples: 100, meanMicros: 50.5, p50Micros: 51, p99Micros: 100 });
  });

  it('reports zeros for no samples', () => {
    expect(summarise([])).toEqual({ samples: 0, meanMicros: 0, p50Micros: 0, p99Micros: 0 });
  });
});

describe('formatMicros', () => {
  it('switches to milliseconds from 1000 µs', () => {
    expect(formatMicros(12.34)).toBe('12.3 µs');
    expect(formatMicros(1500)).toBe('1.50 ms');
  });
});
