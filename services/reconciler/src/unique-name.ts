import { subjectToken } from '@castellan/proto';
import { ReconcilerError, ReconcilerErrorCode } from './errors.js';
import type { AnyPolicy } from './policy-resources.js';

/** Kubewarden's unique name of a policy (docs/kubewarden-compatibility.md#names-and-webhooks), unchecked. */
function rawUniqueName(policy: AnyPolicy): string {
  switch (policy.kind) {
    case 'ClusterAdmissionPolicy':
      return `clusterwide-${policy.metadata.name}`;
    case 'AdmissionPolicy':
      return `namespaced-${policy.metadata.namespace}-${policy.metadata.name}`;
    case 'ClusterAdmissionPolicyGroup':
      return `clusterwide-group-${policy.metadata.name}`;
    case 'AdmissionPolicyGroup':
      return `namespaced-group-${policy.metadata.namespace}-${policy.metadata.name}`;
  }
}

/** `<kind> <namespace>/<name>` for messages. */
export function describePolicy(policy: AnyPolicy): string {
  const { name, namespace } = policy.metadata;
  return `${policy.kind} ${namespace !== undefined ? `${namespace}/` : ''}${name}`;
}

/**
 * The policy's unique name (docs/kubewarden-compatibility.md#names-and-webhooks): its policy id, webhook-configuration name and URL path.
 * Throws a {@link ReconcilerError} if it cannot be a NATS subject token (e.g. a `.` in the name).
 */
export function uniqueNameOf(policy: AnyPolicy): string {
  const name = rawUniqueName(policy);
  try {
    return subjectToken(name, 'policy id');
  } catch (cause) {
    throw new ReconcilerError(
      ReconcilerErrorCode.PolicyNameInvalid,
      `${describePolicy(policy)}: its policy id "${name}" cannot be a NATS subject token: ` +
        'rename the policy with letters, digits, "-" and "_" only (no ".")',
      { cause },
    );
  }
}
