import { compilePolicyModule, createHostCallDispatcher, PolicyEvaluator } from '@castellan/runtime';
import type {
  AdmissionResponse,
  CompileOptions,
  LoadedPolicy,
  ModuleBytes,
  PolicyLogEntry,
} from '@castellan/runtime';

/** An evaluator as the CLI runs one (every capability pattern granted), recording policy logs. */
export function startEvaluator(workers = 2): { evaluator: PolicyEvaluator; logs: PolicyLogEntry[] } {
  const logs: PolicyLogEntry[] = [];
  const evaluator = new PolicyEvaluator({
    workers,
    hostCallHandler: createHostCallDispatcher({ grantedCapabilities: () => ['*'] }),
    logSink: (entry) => logs.push(entry),
  });
  return { evaluator, logs };
}

export async function loadPolicy(
  evaluator: PolicyEvaluator,
  bytes: ModuleBytes,
  options: { policyId?: string; settings?: unknown; timeoutSeconds?: number } & CompileOptions = {},
): Promise<LoadedPolicy> {
  const module = await compilePolicyModule(bytes, options);
  return evaluator.load({
    policyId: options.policyId ?? 'test-policy',
    module,
    settings: options.settings,
    timeoutSeconds: options.timeoutSeconds,
  });
}

export function decodePatch(patch: string | undefined): unknown {
  return patch === undefined ? undefined : JSON.parse(Buffer.from(patch, 'base64').toString('utf8'));
}

/** The waPC decision for an evaluation that overran its deadline. */
export function deadlineDecision(uid: string): AdmissionResponse {
  return {
    uid,
    allowed: false,
    status: {
      message: 'Policy execution interrupted because it exceeded the allowed execution time',
      code: 500,
    },
    auditAnnotations: null,
    warnings: null,
  };
}
