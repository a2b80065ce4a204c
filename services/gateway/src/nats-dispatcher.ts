import {
  decodeEvaluationReply,
  encodeEvaluationRequest,
  evaluationSubject,
  messageOf,
} from '@castellan/proto';
import type { AdmissionResponse } from '@castellan/runtime';
import { untilTurnEnds } from '@castellan/service-host';
import type { NatsLink } from '@castellan/service-host';
import { RequestError, TimeoutError } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/nats-core';
import type { EvaluationCall, EvaluationDispatcher, EvaluationOutcome, PolicyRoutes } from './dispatch.js';

const NATS_DOWN = 'the gateway is not connected to NATS';

/**
 * Sends each evaluation to the evaluator pool over NATS (request/reply on the subject of the
 * routed revision; the pool's queue group picks one evaluator) and reports when none answers, at
 * once when the NATS connection is down.
 */
export class NatsDispatcher implements EvaluationDispatcher {
  constructor(
    private readonly nc: NatsConnection,
    private readonly routes: PolicyRoutes,
    private readonly link: NatsLink,
  ) {}

  async evaluate(call: EvaluationCall): Promise<EvaluationOutcome> {
    const deadline = Date.now() + call.timeoutMs;
    let { route } = call;
    for (;;) {
      if (route.revision === 0) {
        return unavailable(`no live evaluator of pool "${route.pool}" has loaded policy ${route.policyId}`);
      }
      const outcome = await this.send(call, route.revision, deadline);
      if (outcome !== 'no-responders') return outcome;
      // The revision was retired between reading the route and sending: follow the newer one.
      const current = this.routes.get(route.policyId);
      if (!current || current.revision === route.revision || Date.now() >= deadline) {
        return unavailable(`no evaluator of pool "${route.pool}" serves revision ${route.revision}`);
      }
      route = current;
    }
  }

  private async send(
    call: EvaluationCall,
    revision: number,
    deadline: number,
  ): Promise<EvaluationOutcome | 'no-responders'> {
    const { route } = call;
    const request = encodeEvaluationRequest({
      policyId: route.policyId,
      revision,
      origin: call.origin,
      body: call.body,
      uid: call.uid,
      deadline,
    });
    // The requests of one turn leave in one socket write (see untilTurnEnds).
    await untilTurnEnds();
    const timeout = Math.max(1, deadline - Date.now());
    try {
      const subject = evaluationSubject(route.pool, route.policyId, revision);
      const message = await this.link.whileLinked(() => this.nc.request(subject, request, { timeout }));
      if (message === 'lost') return unavailable(NATS_DOWN);
      const reply = decodeEvaluationReply(message.data);
      if (reply.ok) {
        // Only an evaluator of the pool may answer (bus permissions); a verdict must still be for
        // this request: never hand one AdmissionReview's answer to another.
        const { uid } = reply.response as { uid?: unknown };
        if (uid !== call.uid) {
          return unavailable(`the reply is a verdict for request ${String(uid)}, not this one`);
        }
        return { kind: 'verdict', response: reply.response as unknown as AdmissionResponse };
      }
      return unavailable(`the evaluator failed: ${reply.error.message} (${reply.error.code})`);
    } catch (error) {
      if (error instanceof RequestError && error.isNoResponders()) return 'no-responders';
      if (
        error instanceof TimeoutError ||
        (error instanceof RequestError && error.cause instanceof TimeoutError)
      ) {
        return unavailable(`no reply within ${timeout} ms`);
      }
      return unavailable(messageOf(error));
    }
  }
}

function unavailable(reason: string): EvaluationOutcome {
  return { kind: 'unavailable', reason };
}
