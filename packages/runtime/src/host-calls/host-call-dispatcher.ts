import { messageOf } from '@castellan/proto';
import {
  KNOWN_CAPABILITY_PATHS,
  notGrantedMessage,
  parseHostCapabilityGrants,
  unknownBindingMessage,
  unknownNamespaceMessage,
  unknownOperationMessage,
} from '../capabilities/index.js';
import type { HostCallHandler, HostCallOutcome, HostCallRequest } from './host-call.js';

/** A host capability this runtime implements: `payload` in, response bytes out, or a thrown error. */
export type HostCapability = (payload: Uint8Array, call: HostCallRequest) => Promise<Uint8Array> | Uint8Array;

export interface HostCallDispatcherOptions {
  /**
   * The allow-list patterns granted to a policy (docs/kubewarden-compatibility.md#capability-allow-lists);
   * `['*']` grants everything.
   */
  grantedCapabilities: (policyId: string) => readonly string[];
  /** Implemented capabilities by path (`kubernetes/get_resource`, …). */
  capabilities?: ReadonlyMap<string, HostCapability>;
}

/**
 * Routes host calls as Kubewarden does (docs/kubewarden-compatibility.md#host-calls): the binding must be
 * `kubewarden`, the policy's allow-list is checked before the path is matched, and an unknown namespace or
 * operation gets the reference's error text. A known capability this runtime does not provide is answered as
 * not granted, since no configuration can grant it here. (`tracing/log` never reaches this: worker threads
 * answer it themselves.)
 */
export function createHostCallDispatcher(options: HostCallDispatcherOptions): HostCallHandler {
  const grantsByPolicy = new Map<string, ReturnType<typeof parseHostCapabilityGrants>>();
  const grantsFor = (policyId: string) => {
    let grants = grantsByPolicy.get(policyId);
    if (!grants) {
      grants = parseHostCapabilityGrants(options.grantedCapabilities(policyId));
      grantsByPolicy.set(policyId, grants);
    }
    return grants;
  };
  const namespaces = new Set(KNOWN_CAPABILITY_PATHS.map((path) => path.slice(0, path.indexOf('/'))));

  return async (call: HostCallRequest): Promise<HostCallOutcome> => {
    if (call.binding !== 'kubewarden') return { ok: false, error: unknownBindingMessage(call.binding) };
    const path = `${call.namespace}/${call.operation}`;
    if (!grantsFor(call.policyId).isGranted(path)) return { ok: false, error: notGrantedMessage(path) };
    if (!namespaces.has(call.namespace)) return { ok: false, error: unknownNamespaceMessage(call.namespace) };
    if (!KNOWN_CAPABILITY_PATHS.includes(path))
      return { ok: false, error: unknownOperationMessage(call.operation) };
    const capability = options.capabilities?.get(path);
    if (!capability) return { ok: false, error: notGrantedMessage(path) };
    try {
      return { ok: true, response: await capability(call.payload, call) };
    } catch (error) {
      return {
        ok: false,
        error: `Callback evaluation failure: ${messageOf(error)}`,
      };
    }
  };
}
