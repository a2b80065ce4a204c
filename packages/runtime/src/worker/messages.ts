import type { AdmissionResponse, SettingsValidationResponse } from '../admission/index.js';
import type { ValidationInput } from '../engines/policy-engine.js';
import type { ErrorRecord } from '../errors.js';
import type { HostCallOutcome, HostCallRequest, PolicyLogEntry } from '../host-calls/host-call.js';
import type { ExecutionMode } from '../metadata/index.js';
import type { MemoryImport } from '../policy-module.js';
import type { MessagePort } from 'node:worker_threads';

/** Everything a worker needs to run one policy; sent once per worker when the policy is loaded. */
export interface PolicyLoadSpec {
  policyKey: string;
  policyId: string;
  executionMode: ExecutionMode;
  module: WebAssembly.Module;
  /** waPC only: export names of the instrumented mutable globals, null when not instrumentable. */
  globalExports: readonly string[] | null;
  settingsJson: string;
  memoryLimitPages: number;
  memoryImport: MemoryImport | undefined;
}

export type WorkerTask =
  | { kind: 'load'; seq: number; spec: PolicyLoadSpec }
  | { kind: 'validate'; seq: number; policyKey: string; input: ValidationInput }
  | { kind: 'validate-settings'; seq: number; policyKey: string }
  | { kind: 'unload'; seq: number; policyKey: string };

export type TaskResult = AdmissionResponse | SettingsValidationResponse | null;

/** `ranMs`: how long the task ran on the worker, measured there (queueing and messaging left out). */
export type WorkerEvent =
  | { kind: 'done'; seq: number; result: TaskResult; ranMs: number }
  | { kind: 'failed'; seq: number; error: ErrorRecord; ranMs: number }
  | { kind: 'log'; entry: PolicyLogEntry };

export interface HostCallMessage {
  request: HostCallRequest;
}

export interface HostCallAnswer {
  outcome: HostCallOutcome;
}

/** Data given to each worker at start. */
export interface WorkerBootstrap {
  /** Int32 [0]: sequence number of the task running now (0 = idle); Float64 [1]: its start, epoch ms. */
  status: SharedArrayBuffer;
  /** Int32 [0]: set to 1 by the parent when a host-call answer is waiting on the host-call port. */
  hostCallSignal: SharedArrayBuffer;
  hostCallPort: MessagePort;
}

export const STATUS_BYTES = 16;
