import type { AdmissionResponse, SettingsValidationResponse } from '../admission/index.js';
import type { PolicyLogLevel, SyncHostCall } from '../host-calls/host-call.js';

/** One evaluation as an engine receives it: the normalised request, already serialised once. */
export interface ValidationInput {
  uid: string;
  /** JSON of the AdmissionRequest (or of the caller's raw request for raw policies). */
  requestJson: string;
  raw: boolean;
}

/** What an engine needs from its surroundings inside a worker thread. */
export interface EngineContext {
  policyId: string;
  /** The settings object as JSON, serialised once when the policy is loaded. */
  settingsJson: string;
  hostCall: SyncHostCall;
  log: (level: PolicyLogLevel, message: string) => void;
}

/** Runs one loaded policy, one evaluation at a time, in the worker thread that owns it. */
export interface PolicyEngine {
  validate(input: ValidationInput): AdmissionResponse;
  validateSettings(): SettingsValidationResponse;
}

/**
 * The message a request gets when its policy overran the deadline
 * (docs/kubewarden-compatibility.md#timeouts).
 */
export const DEADLINE_EXCEEDED_MESSAGE =
  'Policy execution interrupted because it exceeded the allowed execution time';

/**
 * The object a mutation is diffed against (docs/kubewarden-compatibility.md#admission-response):
 * `request.object`, or the whole raw request.
 */
export function mutationOriginal(input: ValidationInput): unknown {
  const request = JSON.parse(input.requestJson) as Record<string, unknown>;
  return input.raw ? request : request['object'];
}

/**
 * The JSON text of a ValidationRequest (docs/kubewarden-compatibility.md#validation-request), built without
 * re-serialising either part.
 */
export function validationRequestJson(input: ValidationInput, settingsJson: string): string {
  return `{"request":${input.requestJson},"settings":${settingsJson}}`;
}
