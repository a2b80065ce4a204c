import type { Condition } from './policy-resources.js';

/** A condition as computed, before its transition time is known. */
export type ConditionState = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/**
 * The conditions to write, with `meta.SetStatusCondition`'s rule for transition times: a
 * condition whose status did not change keeps its previous `lastTransitionTime`, so writing the
 * same observation twice yields the same object (and the reconciler skips the write).
 */
export function withTransitions(
  states: ConditionState[],
  previous: Condition[] | undefined,
  generation: number | undefined,
  now: Date,
): Condition[] {
  return states.map((state) => {
    const before = previous?.find((condition) => condition.type === state.type);
    return {
      ...state,
      lastTransitionTime:
        before?.status === state.status
          ? before.lastTransitionTime
          : now.toISOString().replace(/\.\d+Z$/, 'Z'),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
}
