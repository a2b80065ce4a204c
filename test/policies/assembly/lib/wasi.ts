// Helpers for WASI command-mode policies (docs/kubewarden-compatibility.md#wasi-policies). Built
// with @assemblyscript/wasi-shim, whose `process` global wraps WASI: argv, stdin/stdout/stderr and
// exit.
import { call } from './host';
import { HostCallResult } from './kubewarden';

const CHUNK = 64 * 1024;

/** Reads stdin until a read returns 0 bytes (the host's pipe never blocks: empty = EOF). */
export function readStdin(): string {
  const chunks = new Array<ArrayBuffer>();
  let total = 0;
  while (true) {
    const buf = new ArrayBuffer(CHUNK);
    const n = process.stdin.read(buf);
    if (n <= 0) break;
    chunks.push(buf.slice(0, n));
    total += n;
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (let i = 0; i < chunks.length; i++) {
    all.set(Uint8Array.wrap(chunks[i]), offset);
    offset += chunks[i].byteLength;
  }
  return String.UTF8.decode(all.buffer);
}

/** Calls a host capability; the answer (or error text) is read back from stdin. */
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
  const status = call(
    changetype<usize>(b),
    b.byteLength,
    changetype<usize>(n),
    n.byteLength,
    changetype<usize>(o),
    o.byteLength,
    changetype<usize>(p),
    p.byteLength,
  );
  return new HostCallResult(status == 0, readStdin());
}

/** Writes a line to stderr and exits with `code` (proc_exit). */
export function die(message: string, code: i32): void {
  process.stderr.write(message);
  process.exit(code);
}
