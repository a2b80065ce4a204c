import { encodeEvaluationReply, evaluationSubject, poolQueueGroup } from '@castellan/proto';
import type { PolicyEvaluator } from '@castellan/runtime';
import { untilTurnEnds } from '@castellan/service-host';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { answerEvaluation } from './request-handler.js';
import type { RevisionState } from './revision-state.js';

export interface ServedRevisionOptions {
  nc: NatsConnection;
  pool: string;
  policyId: string;
  revision: number;
  state: RevisionState;
  evaluator: PolicyEvaluator;
  logger: Logger;
}

/**
 * One revision of one policy being served: a queue subscription on the revision's own subject,
 * answering with the loaded policy or with the revision's load failure. Draining it lets every
 * request already received finish before the revision is unloaded.
 */
export class ServedRevision {
  readonly revision: number;
  private currentState: RevisionState;
  readonly subject: string;
  private readonly subscription: Subscription;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly logger: Logger;
  private drained: Promise<void> | undefined;

  constructor(private readonly options: ServedRevisionOptions) {
    this.revision = options.revision;
    this.currentState = options.state;
    this.subject = evaluationSubject(options.pool, options.policyId, options.revision);
    this.logger = options.logger.child({ revision: options.revision });
    this.subscription = options.nc.subscribe(this.subject, {
      queue: poolQueueGroup(options.pool),
      callback: (error, msg) => {
        if (error) {
          this.logger.error({ err: error, subject: this.subject }, 'evaluation subscription failed');
          return;
        }
        const answered = this.answer(msg).finally(() => this.inFlight.delete(answered));
        this.inFlight.add(answered);
      },
    });
  }

  /** What requests are answered with. */
  get state(): RevisionState {
    return this.currentState;
  }

  /** A retried load of the same revision: requests received from now on get the new state. */
  replaceState(state: RevisionState): void {
    this.currentState = state;
  }

  /** Stops taking requests and waits until every request received has been answered. */
  drain(): Promise<void> {
    this.drained ??= (async () => {
      try {
        await this.subscription.drain();
      } catch (error) {
        // A closed connection has no subscription left to drain.
        this.logger.debug({ err: error }, 'subscription drain failed');
      }
      await Promise.allSettled([...this.inFlight]);
    })();
    return this.drained;
  }

  private async answer(msg: Msg): Promise<void> {
    const target = { policyId: this.options.policyId, revision: this.revision, state: this.state };
    const outcome = await answerEvaluation(msg.data, target, this.options.evaluator);
    const { reply, uid, origin, failure } = outcome;
    if (failure) {
      this.logger.warn(
        { uid, origin, code: failure.code, reason: failure.message },
        'evaluation failed; answered with a deny',
      );
    } else if (reply.ok) {
      this.logger.debug({ uid, origin, allowed: reply.response.allowed }, 'evaluated');
    } else {
      this.logger.warn(
        { uid, origin, code: reply.error.code, reason: reply.error.message },
        'evaluation refused',
      );
    }
    // The replies of one turn leave in one socket write (see untilTurnEnds).
    await untilTurnEnds();
    try {
      msg.respond(encodeEvaluationReply(reply));
    } catch (error) {
      this.logger.warn({ uid, err: error }, 'cannot send the evaluation reply');
    }
  }
}
