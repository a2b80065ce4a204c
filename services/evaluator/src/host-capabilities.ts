import { createHostCallDispatcher } from '@castellan/runtime';
import type { HostCallHandler } from '@castellan/runtime';

/**
 * The host-capability allow-list of each policy (docs/kubewarden-compatibility.md#capability-allow-lists),
 * behind the one host-call handler the worker threads share.
 *
 * A host call names its policy but not the revision, so while two revisions of a policy are served
 * during a rollout, both use the grants of the newest one loaded. The evaluator implements no
 * gated capability yet (no Kubernetes, OCI, DNS or crypto access), so every gated call is answered
 * "not granted" whatever the list says; the list is still validated at load time as Kubewarden does.
 */
export class HostCapabilityGrants {
  private readonly dispatchers = new Map<string, HostCallHandler>();
  private readonly denyAll = createHostCallDispatcher({ grantedCapabilities: () => [] });

  readonly handler: HostCallHandler = (call) => (this.dispatchers.get(call.policyId) ?? this.denyAll)(call);

  /** Rejects with the runtime's `CASTELLAN_RUNTIME_HOST_CAPABILITY_PATTERN_INVALID` for a bad pattern. */
  static async check(patterns: readonly string[]): Promise<void> {
    // The runtime parses the patterns on a policy's first host call and exports no parser: probe once.
    const probe = createHostCallDispatcher({ grantedCapabilities: () => patterns });
    await probe({
      policyId: 'probe',
      binding: 'kubewarden',
      namespace: 'net',
      operation: 'v1/dns_lookup_host',
      payload: new Uint8Array(),
    });
  }

  grant(policyId: string, patterns: readonly string[]): void {
    const granted = [...patterns];
    this.dispatchers.set(policyId, createHostCallDispatcher({ grantedCapabilities: () => granted }));
  }

  revoke(policyId: string): void {
    this.dispatchers.delete(policyId);
  }
}
