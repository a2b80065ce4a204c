/** Summary of a set of latency samples, in microseconds. */
export interface LatencySummary {
  samples: number;
  meanMicros: number;
  p50Micros: number;
  p99Micros: number;
}

export function summarise(samplesMicros: number[]): LatencySummary {
  const sorted = [...samplesMicros].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const total = sorted.reduce((sum, s) => sum + s, 0);
  return {
    samples: sorted.length,
    meanMicros: sorted.length > 0 ? total / sorted.length : 0,
    p50Micros: at(0.5),
    p99Micros: at(0.99),
  };
}

export function formatMicros(micros: number): string {
  return micros >= 1000 ? `${(micros / 1000).toFixed(2)} ms` : `${micros.toFixed(1)} µs`;
}
