import { describe, expect, it } from 'vitest';
import { evaluationWaitMs } from './evaluation-timeout.js';

const wait = (callerTimeout: string | undefined, policyTimeoutSeconds: number): number =>
  evaluationWaitMs({ callerTimeout, policyTimeoutSeconds, defaultPolicyTimeoutSeconds: 2 });

describe('evaluationWaitMs', () => {
  it('gives a policy its deadline plus grace when the apiserver waits longer', () => {
    expect(wait('10s', 2)).toBe(2_500);
    expect(wait('30s', 5)).toBe(5_500);
  });

  it('answers before the apiserver gives up: 10 % of its timeout as margin, at least 250 ms', () => {
    expect(wait('10s', 30)).toBe(9_000);
    expect(wait('1s', 5)).toBe(750);
    expect(wait('2500ms', 5)).toBe(2_250);
  });

  it('keeps at least half of a very short apiserver timeout', () => {
    expect(wait('300ms', 5)).toBe(150);
  });

  it('assumes the Kubernetes default webhook timeout without a usable ?timeout=', () => {
    expect(wait(undefined, 30)).toBe(9_000);
    expect(wait('soon', 30)).toBe(9_000);
    expect(wait('0s', 30)).toBe(9_000);
    expect(wait('-3s', 30)).toBe(9_000);
  });

  it('uses the default policy timeout for a route without one', () => {
    expect(wait('10s', 0)).toBe(2_500);
    expect(wait('10s', Number.NaN)).toBe(2_500);
  });
});
