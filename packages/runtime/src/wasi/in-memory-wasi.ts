import { ConsoleStdout, File, OpenFile, WASI, WASIProcExit, wasi } from '@bjorn3/browser_wasi_shim';

/** Collects everything a guest writes to one of its standard streams. */
class CapturedStream {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  readonly fd = new ConsoleStdout((bytes) => {
    this.chunks.push(bytes);
    this.length += bytes.length;
  });

  bytes(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const all = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return all;
  }

  text(): string {
    return new TextDecoder().decode(this.bytes());
  }
}

/** How a WASI `_start` ended: a normal return and `proc_exit(0)` both count as success. */
export type WasiExit = { kind: 'exited'; code: number };

/**
 * A complete `wasi_snapshot_preview1` for one guest instance, with in-memory stdio: stdin is a byte buffer
 * the host can append to (WASI host-call answers arrive there, docs/kubewarden-compatibility.md#host-calls),
 * stdout and stderr are captured. No argv beyond what is given, no environment, no preopened directories.
 */
export class InMemoryWasi {
  private readonly stdinFile: File;
  private readonly shim: WASI;
  readonly stdout = new CapturedStream();
  readonly stderr = new CapturedStream();

  constructor(args: readonly string[] = [], stdin: Uint8Array = new Uint8Array(0)) {
    this.stdinFile = new File(stdin);
    this.shim = new WASI([...args], [], [new OpenFile(this.stdinFile), this.stdout.fd, this.stderr.fd], {
      debug: false,
    });
    const imports = this.shim.wasiImport as Record<string, (...args: never[]) => unknown>;
    // The shim throws on sockets; a policy probing for them should get an errno, not a trap.
    for (const name of ['sock_recv', 'sock_send', 'sock_shutdown', 'sock_accept']) {
      imports[name] = () => wasi.ERRNO_NOTSUP;
    }
  }

  get imports(): WebAssembly.ModuleImports {
    return this.shim.wasiImport;
  }

  /** Makes later reads of stdin return these bytes after what is already there. */
  appendStdin(bytes: Uint8Array): void {
    const current = this.stdinFile.data;
    const joined = new Uint8Array(current.length + bytes.length);
    joined.set(current, 0);
    joined.set(bytes, current.length);
    this.stdinFile.data = joined;
  }

  /** Binds the shim to an instance whose imports came from `imports`, without running anything. */
  bind(instance: WebAssembly.Instance): void {
    (this.shim as unknown as { inst: WebAssembly.Instance }).inst = instance;
  }

  /** Runs `_start`; `proc_exit(n)` ends it with code n, a trap propagates. */
  start(instance: WebAssembly.Instance): WasiExit {
    this.bind(instance);
    const start = instance.exports['_start'];
    if (typeof start !== 'function') return { kind: 'exited', code: 0 };
    try {
      (start as () => void)();
      return { kind: 'exited', code: 0 };
    } catch (error) {
      if (error instanceof WASIProcExit) return { kind: 'exited', code: error.code };
      throw error;
    }
  }
}
