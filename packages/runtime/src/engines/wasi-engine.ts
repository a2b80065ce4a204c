import {
  buildAdmissionResponse,
  internalError,
  parseSettingsValidationResponse,
  parseValidationResponse,
} from '../admission/index.js';
import type { AdmissionResponse, SettingsValidationResponse } from '../admission/index.js';
import { describeError } from '../errors.js';
import { callFromGuestMemory } from '../host-calls/guest-host-call.js';
import { InMemoryWasi } from '../wasi/in-memory-wasi.js';
import type { EngineContext, PolicyEngine, ValidationInput } from './policy-engine.js';
import { mutationOriginal, validationRequestJson } from './policy-engine.js';

const encoder = new TextEncoder();

type Action = 'validate' | 'validate-settings';

/** Why a WASI program did not produce an answer; `message` is what Kubewarden reports. */
class WasiProgramFailure extends Error {
  override readonly name = 'WasiProgramFailure';
}

/**
 * `wasi` execution (docs/kubewarden-compatibility.md#wasi-policies): a WASI command run once per call with a
 * fresh instance (a Javy policy embeds a JavaScript engine whose state cannot be rewound), argv
 * `["policy.wasm", <action>]`, the request on stdin, the answer on stdout. Host calls go through `host.call`
 * (and Javy's un-rewritten `kubewarden:javy/host.call`): `0` means success, and the answer — or the error
 * text — is appended to stdin for the guest to read.
 */
export class WasiEngine implements PolicyEngine {
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly context: EngineContext,
  ) {}

  validate(input: ValidationInput): AdmissionResponse {
    let stdout: string;
    try {
      stdout = this.run('validate', validationRequestJson(input, this.context.settingsJson));
    } catch (error) {
      return internalError(input.uid, describeError(error));
    }
    const parsed = parseValidationResponse(stdout, 'Cannot deserialize policy validation response');
    if (!parsed.ok) return parsed.rejection(input.uid);
    return buildAdmissionResponse({
      uid: input.uid,
      original: parsed.response.mutated_object === undefined ? undefined : mutationOriginal(input),
      response: parsed.response,
    });
  }

  validateSettings(): SettingsValidationResponse {
    let stdout: string;
    try {
      stdout = this.run('validate-settings', this.context.settingsJson);
    } catch (error) {
      return { valid: false, message: describeError(error) };
    }
    return parseSettingsValidationResponse(stdout, 'Cannot deserialize settings validation response');
  }

  private run(action: Action, stdin: string): string {
    const wasi = new InMemoryWasi(['policy.wasm', action], encoder.encode(stdin));
    // Host calls read the guest's memory, which exists only once the instance does.
    const guest: { memory?: WebAssembly.Memory } = {};
    const call = (...args: number[]): number => this.hostCall(wasi, () => guest.memory, args);
    const instance = new WebAssembly.Instance(this.module, {
      wasi_snapshot_preview1: wasi.imports,
      host: { call },
      'kubewarden:javy/host': { call },
    });
    guest.memory = instance.exports['memory'] as WebAssembly.Memory | undefined;
    if (typeof instance.exports['_start'] !== 'function') {
      throw new WasiProgramFailure('cannot find `_start` function inside of module');
    }
    let exitCode: number;
    try {
      exitCode = wasi.start(instance).code;
    } catch (trap) {
      throw new WasiProgramFailure(failureText(wasi.stderr.text(), describeError(trap)));
    }
    const stderr = wasi.stderr.text();
    if (exitCode !== 0) throw new WasiProgramFailure(failureText(stderr, `exit status ${exitCode}`));
    if (stderr.length > 0) this.context.log('warning', `stderr (${action}): ${stderr.trim()}`);
    return wasi.stdout.text();
  }

  private hostCall(wasi: InMemoryWasi, memory: () => WebAssembly.Memory | undefined, args: number[]): number {
    const mem = memory();
    if (!mem) throw new WasiProgramFailure('the module does not export its memory as `memory`');
    const outcome = callFromGuestMemory(this.context.hostCall, new Uint8Array(mem.buffer), args);
    wasi.appendStdin(outcome.ok ? outcome.response : encoder.encode(outcome.error));
    return outcome.ok ? 0 : 1;
  }
}

/** Kubewarden reports a failed WASI program by what it wrote to stderr. */
function failureText(stderr: string, fallback: string): string {
  const trimmed = stderr.trim();
  return trimmed.length > 0 ? trimmed : fallback;
}
