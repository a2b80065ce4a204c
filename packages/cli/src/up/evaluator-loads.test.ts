import type { PublishOutcome, RevisionReach } from '@castellan/control';
import type { PolicyConfig, PolicyMode } from '@castellan/proto';
import { describe, expect, it } from 'vitest';
import { EvaluatorLoads } from './evaluator-loads.js';

const published = (
  policyId: string,
  revision: number,
  policyMode: PolicyMode = 'protect',
  result: 'created' | 'updated' | 'unchanged' = 'created',
): PublishOutcome => ({
  policyId,
  result,
  revision,
  config: { policyId, policyMode } as PolicyConfig,
});

/** Statuses as the test sets them: policy → what the one evaluator reports. */
function evaluatorLoads() {
  const reports = new Map<string, { loaded: number; failed?: { revision: number; message: string } }>();
  const reach = (policyId: string, revision: number): RevisionReach => {
    const report = reports.get(policyId);
    if (report?.failed && report.failed.revision >= revision) {
      return {
        live: 1,
        serving: 0,
        failures: [{ evaluatorId: 'e', code: 'X', message: report.failed.message }],
      };
    }
    return { live: 1, serving: (report?.loaded ?? 0) >= revision ? 1 : 0, failures: [] };
  };
  const lines: string[] = [];
  const loads = new EvaluatorLoads(reach, (line) => lines.push(line));
  return { loads, reports, lines };
}

describe('EvaluatorLoads', () => {
  it('says what the evaluator did with each revision, once it did, and once only', () => {
    const { loads, reports, lines } = evaluatorLoads();
    loads.expect([published('a', 1), published('b', 2), { policyId: 'c', result: 'removed' }]);
    expect(lines).toEqual([]);
    expect(loads.pending()).toBe(2);
    reports.set('a', { loaded: 1 });
    reports.set('b', { loaded: 2, failed: { revision: 2, message: 'Policy settings are invalid: no' } });
    loads.review();
    loads.review();
    expect(lines).toEqual([
      '✓ a: revision 1 loaded by the evaluator',
      '✗ b: revision 2 refused by the evaluator: Policy settings are invalid: no; it denies every request until fixed',
    ]);
    expect([loads.pending(), loads.refused()]).toEqual([0, 1]);
  });

  it('follows a policy to its next revision, and says when a verdict changes', () => {
    const { loads, reports, lines } = evaluatorLoads();
    loads.expect([published('a', 1, 'monitor')]);
    reports.set('a', { loaded: 1, failed: { revision: 1, message: 'not stored yet' } });
    loads.review();
    // The evaluator's own retry loaded it.
    reports.set('a', { loaded: 1 });
    loads.review();
    // Unchanged on a later publish: nothing new to say.
    loads.expect([published('a', 1, 'monitor', 'unchanged')]);
    loads.expect([published('a', 4)]);
    reports.set('a', { loaded: 4 });
    loads.review();
    expect(lines).toEqual([
      '✗ a: revision 1 refused by the evaluator: not stored yet; requests are allowed (monitor mode) until fixed',
      '✓ a: revision 1 loaded by the evaluator',
      '✓ a: revision 4 loaded by the evaluator',
    ]);
  });

  it('waits for verdicts for a bounded time', async () => {
    const { loads, reports } = evaluatorLoads();
    await loads.settled(10);
    loads.expect([published('a', 1)]);
    const started = Date.now();
    await loads.settled(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    const settled = loads.settled(10_000);
    reports.set('a', { loaded: 1 });
    loads.review();
    await settled;
  });
});
