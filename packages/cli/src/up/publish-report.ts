import type { PublishOutcome } from '@castellan/control';

/**
 * One line per policy a publish wrote, found unchanged, removed or could not write; returns how
 * many failed. A written revision is marked `…`: whether it serves is for the evaluator to say
 * (evaluator-loads.ts prints that).
 */
export function reportPublished(outcomes: PublishOutcome[], say: (line: string) => void): number {
  for (const outcome of outcomes) {
    switch (outcome.result) {
      case 'failed':
        say(`✗ ${outcome.policyId}: ${outcome.error.message}`);
        break;
      case 'removed':
        say(`✓ ${outcome.policyId}: removed`);
        break;
      default: {
        const { module, group } = outcome.config;
        const count = group ? Object.keys(group.members).length : 0;
        const modules = group
          ? `group of ${count} member${count === 1 ? '' : 's'}`
          : `module sha256:${module?.sha256.slice(0, 12) ?? '?'}`;
        say(`… ${outcome.policyId}: ${outcome.result}, revision ${outcome.revision}, ${modules}`);
      }
    }
  }
  return outcomes.filter((outcome) => outcome.result === 'failed').length;
}
