import {
  gatekeeperResultToAdmissionResponse,
  internalError,
  opaResultToAdmissionResponse,
} from '../admission/index.js';
import type { AdmissionResponse, SettingsValidationResponse } from '../admission/index.js';
import { describeError, RuntimeError, RuntimeErrorCode } from '../errors.js';
import { missingRegoBuiltins, regoBuiltins } from '../rego/builtins/index.js';
import type { EngineContext, PolicyEngine, ValidationInput } from './policy-engine.js';
import { loadRegoPolicy, requiredBuiltins } from './opa-wasm.js';
import type { LoadedPolicy } from './opa-wasm.js';

export type RegoMode = 'opa' | 'gatekeeper';

const encoder = new TextEncoder();
/**
 * The OPA ABI's conventional starting memory (docs/kubewarden-compatibility.md#rego-policies); growth is
 * bounded by the memory limit.
 */
const INITIAL_MEMORY_PAGES = 5;

/**
 * `opa` and `gatekeeper` execution (docs/kubewarden-compatibility.md#rego-policies) through
 * `@open-policy-agent/opa-wasm`. The instance is reused: the OPA ABI resets the heap to just after `data`
 * before every evaluation, which is exactly the isolation Kubewarden's own Rego engine gives. An evaluation
 * error or trap discards the instance; the next evaluation loads a fresh one.
 */
export class RegoEngine implements PolicyEngine {
  private loaded: LoadedPolicy | undefined;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly mode: RegoMode,
    private readonly context: EngineContext,
    private readonly memoryLimitPages: number,
  ) {}

  prepare(): void {
    this.acquire();
  }

  validate(input: ValidationInput): AdmissionResponse {
    if (this.mode === 'gatekeeper' && input.raw) {
      return internalError(input.uid, 'Gatekeeper does not support raw validation requests');
    }
    let resultSet: unknown;
    try {
      resultSet = this.acquire().evaluate(toArrayBuffer(this.inputJson(input)));
    } catch (error) {
      this.loaded = undefined;
      return internalError(input.uid, describeError(error));
    }
    return this.mode === 'opa'
      ? opaResultToAdmissionResponse(input.uid, resultSet)
      : gatekeeperResultToAdmissionResponse(input.uid, resultSet);
  }

  /**
   * Rego policies have no settings validation: any settings are accepted
   * (docs/kubewarden-compatibility.md#rego-policies).
   */
  validateSettings(): SettingsValidationResponse {
    return { valid: true };
  }

  private inputJson(input: ValidationInput): string {
    return this.mode === 'opa'
      ? `{"request":${input.requestJson}}`
      : `{"parameters":${this.context.settingsJson},"review":${input.requestJson}}`;
  }

  private acquire(): LoadedPolicy {
    if (this.loaded) return this.loaded;
    const loaded = loadRegoPolicy(
      this.module,
      { initial: Math.min(INITIAL_MEMORY_PAGES, this.memoryLimitPages), maximum: this.memoryLimitPages },
      regoBuiltins,
    );
    const missing = missingRegoBuiltins(requiredBuiltins(loaded));
    if (missing.length > 0) {
      throw new RuntimeError(
        RuntimeErrorCode.RegoBuiltinsMissing,
        `the policy needs Rego builtins that neither Kubewarden nor Castellan provide: ${missing.join(', ')}`,
      );
    }
    // OPA mode: data is the settings object; Gatekeeper: `{}` (no context-aware inventory yet).
    loaded.setData(toArrayBuffer(this.mode === 'opa' ? this.context.settingsJson : '{}'));
    this.loaded = loaded;
    return loaded;
  }
}

function toArrayBuffer(json: string): ArrayBuffer {
  const bytes = encoder.encode(json);
  // `encode` gives each result a buffer of its own, exactly its size: no copy needed.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}
