import type { ExecutionModeName, PolicyConfig, WireError } from '@castellan/proto';
import type { LoadedPolicy } from '@castellan/runtime';

/**
 * What one revision of a policy answers with: the loaded policy, or the reason it could not be
 * loaded (then every request gets a deny naming it, spec §6.3 continue-on-errors).
 */
export type RevisionState =
  | {
      kind: 'loaded';
      policy: LoadedPolicy;
      module: { sha256: string; executionMode: ExecutionModeName | undefined };
    }
  | { kind: 'failed'; error: WireError };

/** One revision of a policy as read from the policy KV: its config, or why it could not be read. */
export interface PolicyRevision {
  policyId: string;
  revision: number;
  config: PolicyConfig | { invalid: WireError };
}
