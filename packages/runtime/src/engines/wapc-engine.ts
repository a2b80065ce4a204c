import {
  buildAdmissionResponse,
  internalError,
  parseSettingsValidationResponse,
  parseValidationResponse,
} from '../admission/index.js';
import type { AdmissionResponse, SettingsValidationResponse } from '../admission/index.js';
import type { MemoryImport } from '../policy-module.js';
import { WASM_PAGE_BYTES } from '../wasm/index.js';
import { InstanceSnapshot } from './instance-snapshot.js';
import type { EngineContext, PolicyEngine, ValidationInput } from './policy-engine.js';
import { mutationOriginal, validationRequestJson } from './policy-engine.js';
import { GuestCallFailure, WapcGuest } from './wapc-guest.js';

const encoder = new TextEncoder();

/** What the worker knows about a compiled waPC module. */
export interface WapcModule {
  module: WebAssembly.Module;
  /** Export names of the module's mutable globals (see `exportMutableGlobals`), or null when the
   *  module could not be instrumented: then every call gets a fresh instance. */
  globalExports: readonly string[] | null;
  memoryImport: MemoryImport | undefined;
}

/** Memory a fresh instance may start with: past this, a policy that grows pays for a new instance. */
const HIGH_WATER_LIMIT_PAGES = 256; // 16 MiB

interface WarmGuest {
  guest: WapcGuest;
  globals: WebAssembly.Global[];
  snapshot: InstanceSnapshot;
}

/**
 * `kubewarden-wapc` execution (docs/kubewarden-compatibility.md#wapc-policies). Recycling rule: one warm
 * instance per policy per worker, restored to its post-initialisation snapshot after every call, so each
 * request sees what a fresh instance would (Kubewarden's isolation) at the cost of a memory copy. The
 * instance is thrown away — and the next call builds a fresh one — after a trap, when a call grew memory (a
 * snapshot cannot shrink it back), or when the module's globals could not be reached. A timeout kills the
 * whole worker, so that instance is gone too.
 *
 * Growth is learnt: the next instance's memory starts at the size the call needed (up to 16 MiB),
 * so its allocator claims that memory at initialisation and later calls of the same size no longer
 * grow — they take the cheap snapshot path.
 */
export class WapcEngine implements PolicyEngine {
  private warm: WarmGuest | undefined;
  private startPages: number;

  constructor(
    private readonly wapcModule: WapcModule,
    private readonly context: EngineContext,
  ) {
    this.startPages = wapcModule.memoryImport?.minimumPages ?? 0;
  }

  /** Instantiates and initialises now, so a module that fails to start is reported at load time. */
  prepare(): void {
    this.release(this.acquire(), false);
  }

  validate(input: ValidationInput): AdmissionResponse {
    const payload = encoder.encode(validationRequestJson(input, this.context.settingsJson));
    let reply: Uint8Array;
    try {
      reply = this.invoke('validate', payload);
    } catch (error) {
      if (!(error instanceof GuestCallFailure)) throw error;
      return internalError(input.uid, `Guest call failure: ${error.message}`);
    }
    const parsed = parseValidationResponse(reply);
    if (!parsed.ok) return parsed.rejection(input.uid);
    return buildAdmissionResponse({
      uid: input.uid,
      original: parsed.response.mutated_object === undefined ? undefined : mutationOriginal(input),
      response: parsed.response,
    });
  }

  validateSettings(): SettingsValidationResponse {
    try {
      return parseSettingsValidationResponse(
        this.invoke('validate_settings', encoder.encode(this.context.settingsJson)),
      );
    } catch (error) {
      if (!(error instanceof GuestCallFailure)) throw error;
      return {
        valid: false,
        message: `Error invoking settings validation callback: GuestCallFailure(${rustDebugString(error.message)})`,
      };
    }
  }

  private invoke(operation: string, payload: Uint8Array): Uint8Array {
    const warm = this.acquire();
    try {
      const reply = warm.guest.call(operation, payload);
      this.release(warm, false);
      return reply;
    } catch (error) {
      this.release(warm, error instanceof GuestCallFailure && error.trapped);
      throw error;
    }
  }

  private acquire(): WarmGuest {
    if (this.warm) return this.warm;
    const limits = this.wapcModule.memoryImport;
    const memory =
      limits && new WebAssembly.Memory({ initial: this.startPages, maximum: limits.maximumPages });
    const guest = WapcGuest.create(
      this.wapcModule.module,
      this.context.hostCall,
      (line) => this.context.log('info', line),
      memory,
    );
    const globals = (this.wapcModule.globalExports ?? []).map(
      (name) => guest.instance.exports[name] as WebAssembly.Global,
    );
    return { guest, globals, snapshot: InstanceSnapshot.take(guest.memory, globals) };
  }

  private release(warm: WarmGuest, trapped: boolean): void {
    const grown = warm.guest.memory.buffer.byteLength > warm.snapshot.memoryBytes;
    if (grown && !trapped && this.wapcModule.memoryImport) {
      this.startPages = Math.min(
        warm.guest.memory.buffer.byteLength / WASM_PAGE_BYTES,
        HIGH_WATER_LIMIT_PAGES,
      );
    }
    if (trapped || grown || this.wapcModule.globalExports === null) {
      this.warm = undefined;
      return;
    }
    warm.snapshot.restore(warm.guest.memory, warm.globals);
    this.warm = warm;
  }
}

/** Rust's `{:?}` rendering of a string, which Kubewarden's settings error messages embed. */
function rustDebugString(text: string): string {
  const escaped = text.replace(/[\\"\n\r\t\0]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : c === '\0' ? '\\0' : `\\${c}`,
  );
  return `"${escaped}"`;
}
