import { CastellanError } from '@castellan/proto';

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

export class EvaluatorError extends CastellanError<EvaluatorErrorCode> {
  override readonly name = 'EvaluatorError';
}
