import { DEFAULT_POLICY_TIMEOUT_SECONDS } from '@castellan/proto';
import { extractAdmissionRequest, internalError, rejection, requestUid } from './admission/index.js';
import type { AdmissionResponse, SettingsValidationResponse } from './admission/index.js';
import { DEADLINE_EXCEEDED_MESSAGE } from './engines/policy-engine.js';
import type { ValidationInput } from './engines/policy-engine.js';
import { RuntimeError, RuntimeErrorCode } from './errors.js';
import type { HostCallHandler, PolicyLogSink } from './host-calls/host-call.js';
import type { ExecutionMode } from './metadata/index.js';
import type { PolicyModule } from './policy-module.js';
import { EvaluationPool } from './worker/evaluation-pool.js';
import type { TaskOutcome } from './worker/worker-thread.js';

/**
 * Rego and WASI report an interrupted guest with the engine's own text
 * (docs/kubewarden-compatibility.md#timeouts).
 */
const INTERRUPTED_GUEST = 'guest code interrupted, execution deadline exceeded';

export interface EvaluatorOptions {
  workers?: number;
  hostCallHandler: HostCallHandler;
  logSink?: PolicyLogSink;
}

export interface PolicyLoadOptions {
  policyId: string;
  module: PolicyModule;
  settings?: unknown;
  /** Deadline of one evaluation (and of the module's initialisation); default 2 s. */
  timeoutSeconds?: number;
}

/** A policy loaded into every worker of an evaluator. */
export interface LoadedPolicy {
  readonly key: string;
  readonly policyId: string;
  readonly executionMode: ExecutionMode;
  readonly rawByDefault: boolean;
  readonly timeoutMs: number;
}

/**
 * Runs policies on a pool of worker threads with bounded execution: each evaluation has a deadline
 * enforced from outside the guest, a trap or overrun becomes a decision (`allowed: false`, code
 * 500), and a failing policy never affects the others.
 */
export class PolicyEvaluator {
  private readonly pool: EvaluationPool;
  private nextKey = 0;

  constructor(options: EvaluatorOptions) {
    this.pool = new EvaluationPool({
      workers: options.workers,
      hostCallHandler: options.hostCallHandler,
      logSink: options.logSink ?? (() => undefined),
    });
  }

  get workers(): number {
    return this.pool.size;
  }

  /** Loads a policy into every worker; a module whose initialisation fails or overruns is rejected. */
  async load(options: PolicyLoadOptions): Promise<LoadedPolicy> {
    const timeoutMs = Math.round((options.timeoutSeconds ?? DEFAULT_POLICY_TIMEOUT_SECONDS) * 1000);
    const key = `${options.policyId}#${++this.nextKey}`;
    const outcomes = await this.pool.loadEverywhere(
      {
        policyKey: key,
        policyId: options.policyId,
        executionMode: options.module.executionMode,
        module: options.module.compiled,
        globalExports: options.module.globalExports,
        settingsJson: JSON.stringify(options.settings ?? {}),
        memoryLimitPages: options.module.memoryLimitPages,
        memoryImport: options.module.memoryImport,
      },
      timeoutMs,
    );
    for (const outcome of outcomes) {
      if (outcome.kind === 'failed') throw RuntimeError.fromRecord(outcome.error);
      if (outcome.kind === 'timed-out') {
        throw new RuntimeError(
          RuntimeErrorCode.ModuleLoadFailed,
          `policy ${options.policyId}: initialisation did not finish within ${timeoutMs / 1000} s`,
        );
      }
    }
    return {
      key,
      policyId: options.policyId,
      executionMode: options.module.executionMode,
      rawByDefault: options.module.metadata?.policyType === 'raw',
      timeoutMs,
    };
  }

  async unload(policy: LoadedPolicy): Promise<void> {
    await this.pool.unloadEverywhere(policy.key);
  }

  async validateSettings(policy: LoadedPolicy): Promise<SettingsValidationResponse> {
    const outcome = await this.pool.submit(
      { kind: 'validate-settings', policyKey: policy.key },
      policy.timeoutMs,
    );
    switch (outcome.kind) {
      case 'done':
        return outcome.result as SettingsValidationResponse;
      case 'timed-out':
        return { valid: false, message: DEADLINE_EXCEEDED_MESSAGE };
      case 'failed':
        return { valid: false, message: outcome.error.message };
      case 'worker-lost':
        return { valid: false, message: `settings validation failed: ${outcome.reason}` };
    }
  }

  /**
   * Evaluates a request and returns the policy's own verdict (no monitor mode, mutation constraint
   * or custom message: see `applyPolicyConfiguration`). `document` is an AdmissionReview or a bare
   * AdmissionRequest, or any JSON for raw policies.
   *
   * An evaluation that has not started within the policy's deadline, or by `notAfter` (epoch ms)
   * if sooner, is not run at all: it gets the deadline-overrun decision.
   */
  async validate(
    policy: LoadedPolicy,
    document: unknown,
    options: { raw?: boolean; notAfter?: number } = {},
  ): Promise<AdmissionResponse> {
    const input = toValidationInput(document, options.raw ?? policy.rawByDefault);
    const outcome = await this.pool.submit(
      { kind: 'validate', policyKey: policy.key, input },
      policy.timeoutMs,
      options.notAfter,
    );
    return decisionFor(policy, input.uid, outcome);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

function toValidationInput(document: unknown, raw: boolean): ValidationInput {
  if (raw) {
    const request =
      typeof document === 'object' && document !== null && 'request' in document
        ? document.request
        : document;
    return { uid: requestUid(request), requestJson: JSON.stringify(request ?? null), raw };
  }
  const request = extractAdmissionRequest(document);
  return { uid: request.uid, requestJson: JSON.stringify(request), raw };
}

function decisionFor(policy: LoadedPolicy, uid: string, outcome: TaskOutcome): AdmissionResponse {
  switch (outcome.kind) {
    case 'done':
      return outcome.result as AdmissionResponse;
    case 'timed-out':
      return policy.executionMode === 'kubewarden-wapc'
        ? rejection(uid, DEADLINE_EXCEEDED_MESSAGE, 500)
        : internalError(uid, INTERRUPTED_GUEST);
    case 'failed':
      return internalError(uid, outcome.error.message);
    case 'worker-lost':
      return internalError(uid, `policy ${policy.policyId} could not be evaluated: ${outcome.reason}`);
  }
}
