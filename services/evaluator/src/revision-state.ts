import type { ExecutionModeName, PolicyConfig, WireError } from '@castellan/proto';
import type { GroupExpression, LoadedPolicy } from '@castellan/runtime';

/** A module loaded into every worker with its settings: a policy, or one member of a group. */
export interface LoadedModule {
  policy: LoadedPolicy;
  module: { sha256: string; executionMode: ExecutionModeName | undefined };
}

/**
 * What one revision of a policy answers with: the loaded policy, the loaded members of a policy group with
 * its expression, or the reason it could not be loaded (then every request gets a deny naming it,
 * docs/kubewarden-compatibility.md#loading-policies).
 */
export type RevisionState =
  | ({ kind: 'loaded' } & LoadedModule)
  | {
      kind: 'group';
      expression: GroupExpression;
      /** The group's rejection message (docs/kubewarden-compatibility.md#policy-groups). */
      message: string;
      /** Member name → loaded member, in declaration order. */
      members: Map<string, LoadedModule>;
    }
  | { kind: 'failed'; error: WireError };

/** One revision of a policy as read from the policy KV: its config, or why it could not be read. */
export interface PolicyRevision {
  policyId: string;
  revision: number;
  config: PolicyConfig | { invalid: WireError };
}
