import type { PublishOutcome, RevisionReach } from '@castellan/control';
import type { PolicyMode } from '@castellan/proto';

/** Where one policy revision stands on the evaluators, as their statuses say. */
type LoadVerdict = { kind: 'loaded' } | { kind: 'refused'; reason: string };

interface ExpectedRevision {
  revision: number;
  policyMode: PolicyMode;
  /** The last line printed for it: a status written again unchanged prints nothing. */
  said?: string;
  verdict?: LoadVerdict;
}

/**
 * What the evaluators did with each revision `castellan up` published: a publish only says the
 * config reached the policy KV; an evaluator may still refuse it (a module without metadata,
 * settings the policy rejects), and then that policy denies every request. One line per revision
 * when its verdict is known, and again whenever it changes (a retry that succeeded, a restarted
 * evaluator that failed).
 *
 * `reach` is EvaluatorDirectory.reach for the pool; `review` is called on each change it reports.
 */
export class EvaluatorLoads {
  private readonly expected = new Map<string, ExpectedRevision>();
  private waiters: (() => void)[] = [];

  constructor(
    private readonly reach: (policyId: string, revision: number) => RevisionReach,
    private readonly say: (line: string) => void,
  ) {}

  /** The revisions a publish wrote (or found): the ones to watch from now on. */
  expect(outcomes: PublishOutcome[]): void {
    for (const outcome of outcomes) {
      if (outcome.result === 'removed') this.expected.delete(outcome.policyId);
      // A failed publish leaves the policy at the revision it had: still watched, if it had one.
      if (outcome.result === 'removed' || outcome.result === 'failed') continue;
      if (this.expected.get(outcome.policyId)?.revision === outcome.revision) continue;
      this.expected.set(outcome.policyId, {
        revision: outcome.revision,
        policyMode: outcome.config.policyMode,
      });
    }
    this.review();
  }

  /** Looks at the statuses again; prints what changed. */
  review(): void {
    for (const [policyId, expected] of this.expected) {
      const verdict = this.verdictOf(policyId, expected.revision);
      if (!verdict) continue;
      expected.verdict = verdict;
      const line = describe(policyId, expected, verdict);
      if (line === expected.said) continue;
      expected.said = line;
      this.say(line);
    }
    if (this.pending() === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Revisions published whose verdict is not known yet. */
  pending(): number {
    return [...this.expected.values()].filter((expected) => !expected.verdict).length;
  }

  /** Revisions the evaluators refused, as last seen. */
  refused(): number {
    return [...this.expected.values()].filter((expected) => expected.verdict?.kind === 'refused').length;
  }

  /** Resolves when every revision has a verdict, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    if (this.pending() === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
  }

  private verdictOf(policyId: string, revision: number): LoadVerdict | undefined {
    const reach = this.reach(policyId, revision);
    const [failure] = reach.failures;
    if (failure) return { kind: 'refused', reason: failure.message };
    return reach.serving > 0 ? { kind: 'loaded' } : undefined;
  }
}

/**
 * A refused revision is served as it is, a failure: the evaluator moves on to the newest revision
 * whether it loads or not, so the one before no longer answers, and every request gets the
 * failure, a deny (docs/kubewarden-compatibility.md#loading-policies), which monitor mode turns
 * into an allow as it does any verdict.
 */
function describe(
  policyId: string,
  { revision, policyMode }: ExpectedRevision,
  verdict: LoadVerdict,
): string {
  if (verdict.kind === 'loaded') return `✓ ${policyId}: revision ${revision} loaded by the evaluator`;
  const meanwhile =
    policyMode === 'monitor'
      ? 'requests are allowed (monitor mode) until fixed'
      : 'it denies every request until fixed';
  return `✗ ${policyId}: revision ${revision} refused by the evaluator: ${verdict.reason}; ${meanwhile}`;
}
