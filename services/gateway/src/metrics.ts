/**
 * The gateway's Prometheus metrics. The evaluation metrics mirror policy-server's
 * `kubewarden_policy_evaluations_total` / `…_latency_milliseconds` (docs/kubewarden-compatibility.md#metrics)
 * under the `castellan_` prefix; `accepted`, `mutated` and `error_code` describe the policy's own verdict,
 * before monitor mode and the mutation constraint. No label carries a namespace, a uid or an unknown policy
 * id, so the number of series stays bounded by the configured policies.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { AdmissionResponse } from '@castellan/runtime';
import type { EvaluationOrigin, PolicyRoute } from './dispatch.js';

export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

const EVALUATION_LABELS = [
  'policy_name',
  'policy_mode',
  'resource_kind',
  'resource_request_operation',
  'accepted',
  'mutated',
  'request_origin',
  'error_code',
] as const;

export interface EvaluationRecord {
  route: PolicyRoute;
  origin: EvaluationOrigin;
  requestKind: string;
  operation: string;
  /** The policy's unprocessed verdict. */
  verdict: AdmissionResponse;
  latencyMs: number;
}

/** `route` label of the HTTP counter: the endpoint, never the path (which holds the policy id). */
export type HttpRouteLabel = EvaluationOrigin | 'unmatched';

export class GatewayMetrics {
  private readonly evaluations: Counter<(typeof EVALUATION_LABELS)[number]>;
  private readonly latency: Histogram<(typeof EVALUATION_LABELS)[number]>;
  private readonly failurePolicyAnswers: Counter<'policy_name' | 'pool' | 'failure_policy'>;
  private readonly httpRequests: Counter<'route' | 'status'>;

  /** `heldRequestBytes` is read at each scrape, so that counting costs nothing per request. */
  constructor(registry: Registry, heldRequestBytes: () => number) {
    const registers = [registry];
    this.evaluations = new Counter({
      name: 'castellan_policy_evaluations_total',
      help: 'Policy evaluations answered, by the policy verdict (before monitor mode and the mutation constraint).',
      labelNames: EVALUATION_LABELS,
      registers,
    });
    this.latency = new Histogram({
      name: 'castellan_policy_evaluation_latency_milliseconds',
      help: 'Time from dispatching an evaluation to receiving its verdict, in milliseconds.',
      labelNames: EVALUATION_LABELS,
      buckets: LATENCY_BUCKETS_MS,
      registers,
    });
    this.failurePolicyAnswers = new Counter({
      name: 'castellan_gateway_failure_policy_answers_total',
      help: 'Answers the gateway gave by failure policy because no evaluator of the pool answered.',
      labelNames: ['policy_name', 'pool', 'failure_policy'],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'castellan_gateway_http_requests_total',
      help: 'HTTP requests to the webhook endpoints, by endpoint and status code.',
      labelNames: ['route', 'status'],
      registers,
    });
    new Gauge({
      name: 'castellan_gateway_request_body_bytes',
      help: 'Request-body bytes the gateway holds in memory, across every request in flight (capped by CASTELLAN_MAX_REQUEST_BYTES_IN_FLIGHT).',
      registers,
      collect() {
        this.set(heldRequestBytes());
      },
    });
  }

  recordEvaluation({ route, origin, requestKind, operation, verdict, latencyMs }: EvaluationRecord): void {
    const labels = {
      policy_name: route.policyId,
      policy_mode: route.policyMode,
      resource_kind: requestKind,
      resource_request_operation: operation,
      accepted: String(verdict.allowed),
      mutated: String(verdict.patch !== undefined),
      request_origin: origin,
      error_code: verdict.status?.code === undefined ? '' : String(verdict.status.code),
    };
    this.evaluations.inc(labels);
    this.latency.observe(labels, latencyMs);
  }

  recordFailurePolicyAnswer(route: PolicyRoute): void {
    this.failurePolicyAnswers.inc({
      policy_name: route.policyId,
      pool: route.pool,
      failure_policy: route.failurePolicy,
    });
  }

  recordHttpRequest(route: HttpRouteLabel, status: number): void {
    this.httpRequests.inc({ route, status: String(status) });
  }
}
