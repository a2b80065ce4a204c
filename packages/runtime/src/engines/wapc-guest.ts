import { WapcHost } from '@wapc/host';
import { InMemoryWasi } from '../wasi/in-memory-wasi.js';
import { describeError } from '../errors.js';
import { callFromGuestMemory } from '../host-calls/guest-host-call.js';
import type { SyncHostCall } from '../host-calls/host-call.js';
import { GUEST_MEMORY_IMPORT } from '../policy-module.js';

/** A failed waPC guest call; `message` is the text Kubewarden renders after `Guest call failure: `. */
export class GuestCallFailure extends Error {
  override readonly name = 'GuestCallFailure';
  /** A trap leaves the instance in an unknown state: it must not be used again. */
  readonly trapped: boolean;

  constructor(message: string, trapped: boolean) {
    super(message);
    this.trapped = trapped;
  }
}

export class GuestInitializationFailure extends Error {
  override readonly name = 'GuestInitializationFailure';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A waPC guest instance on top of `@wapc/host`, adapted to Kubewarden
 * (docs/kubewarden-compatibility.md#wapc-abi, #wapc-initialisation): a complete `wasi_snapshot_preview1`
 * replaces the library's small shim, `_start` runs through WASI (so `proc_exit(0)` is success) before
 * `wapc_init`, host calls are synchronous and their error text is passed as UTF-8 bytes (the library measures
 * it in UTF-16 units), and calls are synchronous.
 */
export class WapcGuest extends WapcHost {
  private readonly wasi = new InMemoryWasi();
  private hostErrorBytes: Uint8Array | undefined;

  constructor(
    private readonly hostCall: SyncHostCall,
    private readonly consoleLog: (line: string) => void,
  ) {
    super();
  }

  /** `memory` is given when the module imports its memory (see `importDefinedMemory`). */
  static create(
    module: WebAssembly.Module,
    hostCall: SyncHostCall,
    consoleLog: (line: string) => void,
    memory?: WebAssembly.Memory,
  ): WapcGuest {
    const guest = new WapcGuest(hostCall, consoleLog);
    const imports = guest.getImports();
    if (memory) imports[GUEST_MEMORY_IMPORT.module] = { [GUEST_MEMORY_IMPORT.name]: memory };
    guest.initialize(new WebAssembly.Instance(module, imports));
    return guest;
  }

  override getImports(): WebAssembly.Imports {
    const wapc = super.getImports()['wapc'] as WebAssembly.ModuleImports;
    return {
      wapc: {
        ...wapc,
        __console_log: (ptr: number, len: number) => this.consoleLog(decoder.decode(this.bytesAt(ptr, len))),
        __host_call: this.onHostCall.bind(this),
        __host_error_len: () => this.hostErrorBytes?.length ?? 0,
        __host_error: (ptr: number) => {
          if (this.hostErrorBytes) this.memoryBytes().set(this.hostErrorBytes, ptr);
        },
      },
      wasi_snapshot_preview1: this.wasi.imports,
    };
  }

  override initialize(instance: WebAssembly.Instance): void {
    this.instance = instance;
    const exit = this.wasi.start(instance);
    if (exit.code !== 0) {
      throw new GuestInitializationFailure(`Initialization failed: _start exited with code ${exit.code}`);
    }
    const init = instance.exports['wapc_init'];
    if (typeof init === 'function') (init as () => void)();
    const guestCall = instance.exports['__guest_call'];
    if (typeof guestCall !== 'function') {
      throw new GuestInitializationFailure(
        'the module does not export __guest_call: it is not a waPC policy',
      );
    }
    this.guestCall = guestCall;
  }

  get memory(): WebAssembly.Memory {
    return this.getCallerMemory();
  }

  /**
   * Invokes a guest operation synchronously, in the sequence of docs/kubewarden-compatibility.md#wapc-abi.
   */
  call(operation: string, payload: Uint8Array): Uint8Array {
    const operationEncoded = encoder.encode(operation);
    this.state.guestRequest = { operation, operationEncoded, msg: payload };
    this.state.guestResponse = undefined;
    this.state.guestError = undefined;
    this.state.hostResponse = undefined;
    this.hostErrorBytes = undefined;
    let result: unknown;
    try {
      result = (this.guestCall as (opLen: number, msgLen: number) => number)(
        operationEncoded.length,
        payload.length,
      );
    } catch (error) {
      throw new GuestCallFailure(describeError(error), true);
    }
    if (result === 0) {
      throw new GuestCallFailure(this.state.guestError ?? 'No error message set for call failure', false);
    }
    if (!this.state.guestResponse) {
      throw new GuestCallFailure('No error message OR response set for call success', false);
    }
    return this.state.guestResponse;
  }

  private onHostCall(...args: number[]): number {
    this.state.hostResponse = undefined;
    this.hostErrorBytes = undefined;
    const outcome = callFromGuestMemory(this.hostCall, this.memoryBytes(), args);
    if (outcome.ok) {
      this.state.hostResponse = outcome.response;
      return 1;
    }
    this.hostErrorBytes = encoder.encode(outcome.error);
    return 0;
  }

  private memoryBytes(): Uint8Array {
    return new Uint8Array(this.getCallerMemory().buffer);
  }

  private bytesAt(ptr: number, len: number): Uint8Array {
    return this.memoryBytes().subarray(ptr, ptr + len);
  }
}
