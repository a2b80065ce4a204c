import type { WireError } from '@castellan/proto';

/** Errors of the evaluator service; codes are listed in docs/errors.md. */
export const EvaluatorErrorCode = {
  ConfigInvalid: 'CASTELLAN_EVAL_CONFIG_INVALID',
  PolicyConfigInvalid: 'CASTELLAN_EVAL_POLICY_CONFIG_INVALID',
  SettingsInvalid: 'CASTELLAN_EVAL_SETTINGS_INVALID',
  LoadFailed: 'CASTELLAN_EVAL_LOAD_FAILED',
  DeadlinePassed: 'CASTELLAN_EVAL_DEADLINE_PASSED',
  BodyInvalid: 'CASTELLAN_EVAL_BODY_INVALID',
  RequestMisrouted: 'CASTELLAN_EVAL_REQUEST_MISROUTED',
  EvaluationFailed: 'CASTELLAN_EVAL_EVALUATION_FAILED',
} as const;

export type EvaluatorErrorCode = (typeof EvaluatorErrorCode)[keyof typeof EvaluatorErrorCode];

export class EvaluatorError extends Error {
  override readonly name = 'EvaluatorError';
  readonly code: EvaluatorErrorCode;

  constructor(code: EvaluatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  toRecord(): WireError {
    return { code: this.code, message: this.message };
  }
}

/**
 * The wire form of anything thrown while loading or evaluating. Typed errors of every Castellan
 * package keep their code (the module store's, the runtime's); anything else is wrapped in
 * `fallback` with `context` naming what was being done.
 */
export function toWireError(error: unknown, fallback: EvaluatorErrorCode, context: string): WireError {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    if (error.code.startsWith('CASTELLAN_')) return { code: error.code, message: error.message };
  }
  return { code: fallback, message: `${context}: ${describe(error)}` };
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
