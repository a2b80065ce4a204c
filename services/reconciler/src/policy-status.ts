import type { RevisionReach } from '@castellan/control';
import type { ConditionState } from './conditions.js';
import type { PolicyPhase, PolicyStatus } from './policy-resources.js';

/** Condition types of the policy kinds (docs/kubewarden-compatibility.md#policy-status). */
export const PolicyCondition = {
  Active: 'PolicyActive',
  ConfigurationUpToDate: 'PolicyServerConfigurationUpToDate',
  UniquelyReachable: 'PolicyUniquelyReachable',
} as const;

/** What the reconciler found out about one policy in one pass. */
export type PolicyObservation =
  /** It cannot be served: its PolicyServer is missing or going, its name is unusable, its webhook refused… */
  | { kind: 'blocked'; phase: PolicyPhase; reason: string; message: string }
  /** Its config could not be written to the policy KV (the module fetch failed). */
  | { kind: 'unpublished'; reason: string; message: string; webhookRegistered: boolean }
  /** Its config is revision `revision` of the policy KV; `reach` says who serves it. */
  | {
      kind: 'published';
      pool: string;
      revision: number;
      mode: 'protect' | 'monitor';
      reach: RevisionReach;
      webhookRegistered: boolean;
    };

/** Whether every live evaluator of the pool (at least one) serves the revision. */
export function uniquelyReachable(reach: RevisionReach): boolean {
  return reach.live > 0 && reach.serving === reach.live && reach.failures.length === 0;
}

/** `status.policyStatus`, `status.mode` and the conditions (without transition times) of an observation. */
export function policyStatusOf(observation: PolicyObservation): {
  status: Omit<PolicyStatus, 'conditions'>;
  conditions: ConditionState[];
} {
  switch (observation.kind) {
    case 'blocked':
      return {
        status: { policyStatus: observation.phase, mode: 'unknown' },
        conditions: [
          condition(PolicyCondition.Active, false, observation.reason, observation.message),
          condition(
            PolicyCondition.ConfigurationUpToDate,
            'Unknown',
            'UnknownConfigurationVersion',
            observation.message,
          ),
          notReachable(observation.message),
        ],
      };
    case 'unpublished':
      return {
        status: { policyStatus: observation.webhookRegistered ? 'active' : 'pending', mode: 'unknown' },
        conditions: [
          activeCondition(observation.webhookRegistered, observation.reason, observation.message),
          condition(
            PolicyCondition.ConfigurationUpToDate,
            false,
            'ConfigurationVersionMismatch',
            `the evaluators still have the previous version of this policy: ${observation.message}`,
          ),
          notReachable(observation.message),
        ],
      };
    case 'published':
      return publishedStatus(observation);
  }
}

function publishedStatus(observation: Extract<PolicyObservation, { kind: 'published' }>): {
  status: Omit<PolicyStatus, 'conditions'>;
  conditions: ConditionState[];
} {
  const { pool, revision, reach } = observation;
  const upToDate = condition(
    PolicyCondition.ConfigurationUpToDate,
    true,
    'ConfigurationVersionMatch',
    `revision ${revision} of the policy is in the policy store of pool ${pool}`,
  );
  const reachability = reachabilityOf(pool, revision, reach);
  const reachable = uniquelyReachable(reach);
  const waiting = reachable
    ? ''
    : reach.failures.length > 0
      ? 'the evaluators could not load the policy'
      : 'waiting for every evaluator of the pool to load the policy';
  return {
    status: {
      policyStatus: observation.webhookRegistered ? 'active' : 'pending',
      mode: observation.mode,
    },
    conditions: [
      activeCondition(
        observation.webhookRegistered,
        reach.failures.length > 0 ? 'PolicyLoadFailed' : 'WaitingForEvaluators',
        waiting,
      ),
      upToDate,
      condition(
        PolicyCondition.UniquelyReachable,
        reachable,
        reachable ? 'LatestReplicaSetIsUniquelyReachable' : 'LatestReplicaSetIsNotUniquelyReachable',
        reachability,
      ),
    ],
  };
}

/** A sentence a user can act on about who serves the revision. */
function reachabilityOf(pool: string, revision: number, reach: RevisionReach): string {
  const [failure] = reach.failures;
  if (failure) {
    return (
      `evaluator ${failure.evaluatorId} of pool ${pool} could not load revision ${revision}: ` +
      `${failure.message} (${failure.code}); fix the policy's module or settings`
    );
  }
  if (reach.live === 0) {
    return `no live evaluator in pool ${pool}: check the PolicyServer ${pool} and its evaluator Deployment`;
  }
  return `${reach.serving} of ${reach.live} live evaluators of pool ${pool} serve revision ${revision}`;
}

function activeCondition(registered: boolean, reason: string, message: string): ConditionState {
  return registered
    ? condition(PolicyCondition.Active, true, 'PolicyActive', 'the webhook of the policy is registered')
    : condition(PolicyCondition.Active, false, reason, message);
}

function notReachable(message: string): ConditionState {
  return condition(
    PolicyCondition.UniquelyReachable,
    false,
    'LatestReplicaSetIsNotUniquelyReachable',
    message,
  );
}

function condition(
  type: string,
  status: boolean | 'Unknown',
  reason: string,
  message: string,
): ConditionState {
  return { type, status: status === 'Unknown' ? 'Unknown' : status ? 'True' : 'False', reason, message };
}
