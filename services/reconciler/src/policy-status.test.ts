import { describe, expect, it } from 'vitest';
import { withTransitions } from './conditions.js';
import { policyStatusOf, uniquelyReachable } from './policy-status.js';
import type { PolicyObservation } from './policy-status.js';

const published = (reach: { live: number; serving: number; failures?: [] | [object] }, registered = false) =>
  ({
    kind: 'published',
    pool: 'default',
    revision: 7,
    mode: 'monitor',
    reach: { failures: [], ...reach },
    webhookRegistered: registered,
  }) as PolicyObservation;

describe('policy status', () => {
  it('is reachable only when every live evaluator, and at least one, serves the revision', () => {
    expect(uniquelyReachable({ live: 2, serving: 2, failures: [] })).toBe(true);
    expect(uniquelyReachable({ live: 2, serving: 1, failures: [] })).toBe(false);
    expect(uniquelyReachable({ live: 0, serving: 0, failures: [] })).toBe(false);
    const failure = { evaluatorId: 'e1', code: 'CASTELLAN_X', message: 'bad settings' };
    expect(uniquelyReachable({ live: 1, serving: 1, failures: [failure] })).toBe(false);
  });

  it('reports a policy waiting for its evaluators as pending, with counts a user can read', () => {
    const { status, conditions } = policyStatusOf(published({ live: 3, serving: 1 }));
    expect(status).toEqual({ policyStatus: 'pending', mode: 'monitor' });
    expect(conditions).toEqual([
      expect.objectContaining({ type: 'PolicyActive', status: 'False', reason: 'WaitingForEvaluators' }),
      expect.objectContaining({
        type: 'PolicyServerConfigurationUpToDate',
        status: 'True',
        reason: 'ConfigurationVersionMatch',
      }),
      {
        type: 'PolicyUniquelyReachable',
        status: 'False',
        reason: 'LatestReplicaSetIsNotUniquelyReachable',
        message: '1 of 3 live evaluators of pool default serve revision 7',
      },
    ]);
  });

  it('names the evaluator and the error when the revision failed to load', () => {
    const failure = {
      evaluatorId: 'e1',
      code: 'CASTELLAN_EVALUATOR_SETTINGS_INVALID',
      message: 'labels must be a list',
    };
    const observation = {
      ...published({ live: 1, serving: 0 }),
      reach: { live: 1, serving: 0, failures: [failure] },
    };
    const { conditions } = policyStatusOf(observation);
    expect(conditions[0]).toMatchObject({ status: 'False', reason: 'PolicyLoadFailed' });
    expect(conditions[2]?.message).toBe(
      'evaluator e1 of pool default could not load revision 7: labels must be a list ' +
        "(CASTELLAN_EVALUATOR_SETTINGS_INVALID); fix the policy's module or settings",
    );
  });

  it('stays active while a new revision is unpublished, saying why it is out of date', () => {
    const { status, conditions } = policyStatusOf({
      kind: 'unpublished',
      reason: 'ModuleFetchFailed',
      message: 'registry 127.0.0.1:5000 refused the connection (CASTELLAN_OCI_UNREACHABLE)',
      webhookRegistered: true,
    });
    expect(status.policyStatus).toBe('active');
    expect(conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['PolicyActive', 'True', 'PolicyActive'],
      ['PolicyServerConfigurationUpToDate', 'False', 'ConfigurationVersionMismatch'],
      ['PolicyUniquelyReachable', 'False', 'LatestReplicaSetIsNotUniquelyReachable'],
    ]);
  });

  it('keeps a transition time while the condition status stays, and moves it when it flips', () => {
    const then = new Date('2026-01-01T00:00:00.123Z');
    const later = new Date('2026-01-02T00:00:00Z');
    const first = withTransitions(
      [{ type: 'A', status: 'False', reason: 'R', message: 'm' }],
      undefined,
      1,
      then,
    );
    expect(first).toEqual([
      {
        type: 'A',
        status: 'False',
        reason: 'R',
        message: 'm',
        lastTransitionTime: '2026-01-01T00:00:00Z',
        observedGeneration: 1,
      },
    ]);
    const same = withTransitions(
      [{ type: 'A', status: 'False', reason: 'R2', message: 'm2' }],
      first,
      2,
      later,
    );
    expect(same[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    const flipped = withTransitions(
      [{ type: 'A', status: 'True', reason: 'R', message: 'm' }],
      same,
      2,
      later,
    );
    expect(flipped[0]?.lastTransitionTime).toBe('2026-01-02T00:00:00Z');
  });
});
