/**
 * The webhook endpoints (docs/kubewarden-compatibility.md#endpoints): route, check the body, find the policy,
 * dispatch, and turn the outcome into the answer — the only place where an outcome becomes an admission
 * response, so that every 200 answer echoes the request's uid.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { applyPolicyConfiguration } from '@castellan/runtime';
import type { AdmissionResponse } from '@castellan/runtime';
import type { Logger } from 'pino';
import {
  MAX_ADMISSION_BODY_BYTES,
  checkContentType,
  parseAdmissionBody,
  unreadBodyProblem,
} from './admission-body.js';
import type { AdmissionBody } from './admission-body.js';
import { evaluateWithin } from './bounded-evaluation.js';
import type { EvaluationDispatcher, EvaluationOrigin, PolicyRoute, PolicyRoutes } from './dispatch.js';
import { evaluationWaitMs } from './evaluation-timeout.js';
import { failurePolicyAnswer } from './failure-policy.js';
import { abandonRequestBody, answerBody, sendError, sendJson } from './http-answer.js';
import type { GatewayRequest, GatewayResponse } from './http-answer.js';
import type { GatewayMetrics, HttpRouteLabel } from './metrics.js';
import { readRequestBody } from './request-body.js';
import type { RequestMemoryBudget } from './request-memory.js';
import { routeRequest } from './routes.js';

export interface AdmissionHandlerOptions {
  routes: PolicyRoutes;
  dispatcher: EvaluationDispatcher;
  metrics: GatewayMetrics;
  logger: Logger;
  alwaysAcceptNamespace: string | undefined;
  defaultTimeoutSeconds: number;
  requestTimeoutMs: number;
  memory: RequestMemoryBudget;
}

interface Evaluation {
  route: PolicyRoute;
  origin: EvaluationOrigin;
  bytes: Uint8Array;
  body: AdmissionBody;
  callerTimeout: string | undefined;
}

export class AdmissionHandler {
  constructor(private readonly options: AdmissionHandlerOptions) {}

  async handle(request: GatewayRequest, response: GatewayResponse): Promise<void> {
    const target = routeRequest(request.method, request.url);
    if (target.kind === 'not-found') {
      const message = `no endpoint at ${target.path}: POST to /validate/<policy>, /validate_raw/<policy> or /audit/<policy>`;
      return this.refuse(request, response, 'unmatched', 404, message);
    }
    if (target.kind === 'method-not-allowed') {
      const message = `method ${request.method ?? ''} is not allowed on ${target.path}: use POST`;
      return this.refuse(request, response, 'unmatched', 405, message, { allow: target.allow });
    }
    const { origin, policyId, callerTimeout } = target;
    const contentTypeProblem = checkContentType(request.headers['content-type']);
    if (contentTypeProblem !== undefined) {
      return this.refuse(request, response, origin, contentTypeProblem.status, contentTypeProblem.message);
    }
    const { memory, requestTimeoutMs } = this.options;
    const lease = memory.lease();
    // 'close' ends every response, answered or aborted: the body's bytes are held until then.
    response.once('close', () => lease.release());
    const read = await readRequestBody(request, {
      maxBytes: MAX_ADMISSION_BODY_BYTES,
      memory: lease,
      timeoutMs: requestTimeoutMs,
    });
    if (read.kind !== 'complete') {
      const problem = unreadBodyProblem(read, {
        maxRequestBytesInFlight: memory.capBytes,
        requestTimeoutMs,
      });
      return this.refuse(request, response, origin, problem.status, problem.message);
    }
    const parsed = parseAdmissionBody(read.bytes, origin);
    if (!parsed.ok)
      return this.refuse(request, response, origin, parsed.problem.status, parsed.problem.message);
    const route = this.options.routes.get(policyId);
    if (route === undefined) {
      return this.refuse(request, response, origin, 404, `unknown policy: ${policyId}`);
    }
    const answer = await this.decide({ route, origin, bytes: read.bytes, body: parsed.body, callerTimeout });
    sendJson(response, 200, answerBody(origin, answer));
    this.options.metrics.recordHttpRequest(origin, 200);
  }

  private async decide(evaluation: Evaluation): Promise<AdmissionResponse> {
    const { route, origin, body } = evaluation;
    const { alwaysAcceptNamespace, metrics, logger } = this.options;
    if (
      origin !== 'validate_raw' &&
      alwaysAcceptNamespace !== undefined &&
      body.namespace === alwaysAcceptNamespace
    ) {
      const accepted: AdmissionResponse = {
        uid: body.uid,
        allowed: true,
        auditAnnotations: null,
        warnings: null,
      };
      this.recordVerdict(evaluation, accepted, 0);
      return accepted;
    }
    const timeoutMs = evaluationWaitMs({
      callerTimeout: evaluation.callerTimeout,
      policyTimeoutSeconds: route.timeoutSeconds,
      defaultPolicyTimeoutSeconds: this.options.defaultTimeoutSeconds,
    });
    const started = performance.now();
    const outcome = await evaluateWithin(this.options.dispatcher, {
      route,
      origin,
      body: evaluation.bytes,
      uid: body.uid,
      timeoutMs,
    });
    const log = { policyId: route.policyId, pool: route.pool, uid: body.uid, origin };
    let answer: AdmissionResponse;
    if (outcome.kind === 'verdict') {
      answer = { ...outcome.response, uid: body.uid };
      this.recordVerdict(evaluation, answer, performance.now() - started);
      if (route.policyMode === 'monitor' && origin !== 'audit') {
        // Monitor mode admits regardless; the verdict it would have given is logged
        // (docs/kubewarden-compatibility.md#response-processing, step 1).
        logger.info(
          { ...log, allowed: answer.allowed, message: answer.status?.message },
          'monitor mode: policy verdict not enforced',
        );
      } else {
        logger.debug({ ...log, allowed: answer.allowed }, 'policy verdict');
      }
    } else {
      answer = failurePolicyAnswer(route, body.uid, outcome.reason);
      metrics.recordFailurePolicyAnswer(route);
      logger.warn(
        { ...log, reason: outcome.reason, failurePolicy: route.failurePolicy, timeoutMs },
        'no evaluator answered: answering by failure policy',
      );
    }
    if (origin === 'audit') return answer;
    return applyPolicyConfiguration(answer, {
      policyId: route.policyId,
      policyMode: route.policyMode,
      allowedToMutate: route.allowedToMutate,
      customMessage: route.customMessage,
    });
  }

  private recordVerdict(evaluation: Evaluation, verdict: AdmissionResponse, latencyMs: number): void {
    this.options.metrics.recordEvaluation({
      route: evaluation.route,
      origin: evaluation.origin,
      requestKind: evaluation.body.requestKind,
      operation: evaluation.body.operation,
      verdict,
      latencyMs,
    });
  }

  private refuse(
    request: GatewayRequest,
    response: GatewayResponse,
    route: HttpRouteLabel,
    status: number,
    message: string,
    headers?: OutgoingHttpHeaders,
  ): void {
    abandonRequestBody(request, response);
    sendError(response, status, message, headers);
    this.options.metrics.recordHttpRequest(route, status);
    this.options.logger.debug({ route, status, message }, 'request refused');
  }
}
