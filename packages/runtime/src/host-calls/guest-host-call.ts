import type { HostCallOutcome, SyncHostCall } from './host-call.js';

const decoder = new TextDecoder();

/**
 * Both host-call imports — waPC `__host_call` and WASI `host.call` — take eight i32 arguments:
 * binding, namespace, operation and payload as (pointer, length) pairs in guest memory. This reads
 * them and makes the call; the import itself decides how the outcome reaches the guest.
 */
export function callFromGuestMemory(
  hostCall: SyncHostCall,
  memory: Uint8Array,
  args: readonly number[],
): HostCallOutcome {
  const [bdPtr = 0, bdLen = 0, nsPtr = 0, nsLen = 0, opPtr = 0, opLen = 0, ptr = 0, len = 0] = args;
  const text = (at: number, length: number): string => decoder.decode(memory.subarray(at, at + length));
  return hostCall(text(bdPtr, bdLen), text(nsPtr, nsLen), text(opPtr, opLen), memory.slice(ptr, ptr + len));
}
