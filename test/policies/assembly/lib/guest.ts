// Guest side of the waPC protocol (docs/kubewarden-compatibility.md#wapc-abi): operation dispatch,
// host calls, logging. Policies normally go through lib/policy.ts, which registers the Kubewarden
// operations and re-exports `__guest_call` (a module only exports what its entry file exports).
import {
  __guest_request,
  __guest_response,
  __guest_error,
  __host_call,
  __host_response_len,
  __host_response,
  __host_error_len,
  __host_error,
  __console_log,
} from './wapc';
import { HostCallResult } from './kubewarden';

/** Receives the request payload (UTF-8 decoded) and returns the response payload. */
export type Handler = (payload: string) => string;

const handlers = new Map<string, Handler>();
// Set by `fail()` during a handler: turns the call into a guest error.
let pendingError: string | null = null;

export function register(operation: string, handler: Handler): void {
  handlers.set(operation, handler);
}

/** Makes the current call fail with a guest error; the handler's return value is ignored. */
export function fail(message: string): string {
  pendingError = message;
  return '';
}

/** Entry point the host calls for every operation: returns 1 (success) or 0 (guest error). */
export function __guest_call(operationLen: usize, payloadLen: usize): bool {
  const operationBuf = new ArrayBuffer(<i32>operationLen);
  const payloadBuf = new ArrayBuffer(<i32>payloadLen);
  __guest_request(changetype<usize>(operationBuf), changetype<usize>(payloadBuf));
  const operation = String.UTF8.decode(operationBuf);

  if (!handlers.has(operation)) {
    sendError('No handler registered for function ' + operation);
    return false;
  }
  pendingError = null;
  const result = handlers.get(operation)(String.UTF8.decode(payloadBuf));
  const error = pendingError;
  if (error != null) {
    sendError(error);
    return false;
  }
  const out = String.UTF8.encode(result);
  __guest_response(changetype<usize>(out), out.byteLength);
  return true;
}

function sendError(message: string): void {
  const buf = String.UTF8.encode(message);
  __guest_error(changetype<usize>(buf), buf.byteLength);
}

/** Calls a host capability, e.g. hostCall('kubewarden', 'tracing', 'log', '{...}'). */
export function hostCall(
  binding: string,
  namespace: string,
  operation: string,
  payload: string,
): HostCallResult {
  const b = String.UTF8.encode(binding);
  const n = String.UTF8.encode(namespace);
  const o = String.UTF8.encode(operation);
  const p = String.UTF8.encode(payload);
  const ok = __host_call(
    changetype<usize>(b),
    b.byteLength,
    changetype<usize>(n),
    n.byteLength,
    changetype<usize>(o),
    o.byteLength,
    changetype<usize>(p),
    p.byteLength,
  );
  if (ok) {
    const buf = new ArrayBuffer(<i32>__host_response_len());
    __host_response(changetype<usize>(buf));
    return new HostCallResult(true, String.UTF8.decode(buf));
  }
  const buf = new ArrayBuffer(<i32>__host_error_len());
  __host_error(changetype<usize>(buf));
  return new HostCallResult(false, String.UTF8.decode(buf));
}

/** One line to the host's log (`__console_log`). */
export function log(line: string): void {
  const buf = String.UTF8.encode(line);
  __console_log(changetype<usize>(buf), buf.byteLength);
}

// Replaces AssemblyScript's default `abort` (build flag `--use abort=...`), which would
// import `env.abort` — an import no waPC host provides. Report the message as the
// guest error, then trap so the host sees a failed call.
export function abortGuest(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = 'abort: ' + (message != null ? message : '');
  if (fileName != null) text += ' in ' + fileName + '(' + line.toString() + ':' + column.toString() + ')';
  sendError(text);
  unreachable();
}
