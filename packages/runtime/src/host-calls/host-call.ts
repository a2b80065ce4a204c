/**
 * One capability call a guest makes (waPC `__host_call`, WASI `host.call`):
 * docs/kubewarden-compatibility.md#host-calls.
 */
export interface HostCallRequest {
  policyId: string;
  binding: string;
  namespace: string;
  operation: string;
  payload: Uint8Array;
}

/** A capability answers with bytes, or fails with the error text the guest receives. */
export type HostCallOutcome = { ok: true; response: Uint8Array } | { ok: false; error: string };

/**
 * The one pluggable handler every host call goes through. It may answer asynchronously (Kubernetes
 * reads, registry lookups): the guest stays blocked in its worker until the answer arrives.
 */
export type HostCallHandler = (call: HostCallRequest) => Promise<HostCallOutcome> | HostCallOutcome;

/** A synchronous view of the handler, as seen from inside a worker thread by the guest. */
export type SyncHostCall = (
  binding: string,
  namespace: string,
  operation: string,
  payload: Uint8Array,
) => HostCallOutcome;

export type PolicyLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error';

/** A log line a policy emitted (`kubewarden/tracing/log`, waPC `__console_log`, guest stdio). */
export interface PolicyLogEntry {
  policyId: string;
  level: PolicyLogLevel;
  message: string;
  fields?: Record<string, unknown>;
}

export type PolicyLogSink = (entry: PolicyLogEntry) => void;
