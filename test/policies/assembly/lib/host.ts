// The host-capability import of WASI-mode policies (docs/kubewarden-compatibility.md#host-calls).
// Named after this file, AssemblyScript imports it as `host.call`. It returns 0 on success and 1 on
// failure (the opposite of waPC's __host_call); the response, or the error text, is then appended
// to the guest's stdin.
export declare function call(
  bindingPtr: usize,
  bindingLen: usize,
  namespacePtr: usize,
  namespaceLen: usize,
  operationPtr: usize,
  operationLen: usize,
  payloadPtr: usize,
  payloadLen: usize,
): u32;
