/**
 * An evaluator pool in the test process, standing in for NATS at the gateway's dispatcher seam. It
 * builds verdicts the way an evaluator does (the runtime's `buildAdmissionResponse` over a policy's
 * ValidationResponse), and can also be slow, unreachable, broken or silent.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { buildAdmissionResponse, extractAdmissionRequest } from '@castellan/runtime';
import type { AdmissionRequest, ValidationResponse } from '@castellan/runtime';
import type {
  EvaluationCall,
  EvaluationDispatcher,
  EvaluationOutcome,
  PolicyRoute,
  PolicyRoutes,
} from '../src/index.js';

export type PolicyBehaviour =
  | {
      kind: 'policy';
      validate: (request: unknown) => ValidationResponse;
      delayMs?: number;
    }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'throws'; message: string }
  | { kind: 'silent' };

export class InProcessEvaluatorPool implements EvaluationDispatcher {
  readonly calls: EvaluationCall[] = [];
  private readonly behaviours = new Map<string, PolicyBehaviour>();

  set(policyId: string, behaviour: PolicyBehaviour): this {
    this.behaviours.set(policyId, behaviour);
    return this;
  }

  async evaluate(call: EvaluationCall): Promise<EvaluationOutcome> {
    this.calls.push(call);
    const behaviour = this.behaviours.get(call.route.policyId);
    if (behaviour === undefined) return { kind: 'unavailable', reason: 'no responders' };
    switch (behaviour.kind) {
      case 'unavailable':
        return { kind: 'unavailable', reason: behaviour.reason };
      case 'throws':
        throw new Error(behaviour.message);
      case 'silent':
        return new Promise<never>(() => undefined);
      case 'policy': {
        const document = JSON.parse(Buffer.from(call.body).toString('utf8')) as { request: unknown };
        const raw = call.origin === 'validate_raw';
        const request = raw ? document.request : extractAdmissionRequest(document);
        const original = raw ? request : (request as AdmissionRequest).object;
        const response = buildAdmissionResponse({
          uid: call.uid,
          original,
          response: behaviour.validate(request),
        });
        if (behaviour.delayMs !== undefined) await sleep(behaviour.delayMs, undefined, { ref: false });
        return { kind: 'verdict', response };
      }
    }
  }
}

export function policyRoute(policyId: string, overrides: Partial<PolicyRoute> = {}): PolicyRoute {
  return {
    policyId,
    pool: 'default',
    revision: 1,
    policyMode: 'protect',
    allowedToMutate: false,
    timeoutSeconds: 2,
    failurePolicy: 'Fail',
    ...overrides,
  };
}

export function routeTable(...routes: PolicyRoute[]): PolicyRoutes {
  return new Map(routes.map((route) => [route.policyId, route]));
}
