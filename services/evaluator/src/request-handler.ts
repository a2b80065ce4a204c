import { decodeEvaluationRequest, messageOf, toWireError } from '@castellan/proto';
import type { EvaluationReply, EvaluationRequest, MessageFields, WireError } from '@castellan/proto';
import { evaluatePolicyGroup, rejection, RuntimeErrorCode } from '@castellan/runtime';
import type { AdmissionResponse, LoadedPolicy, PolicyEvaluator } from '@castellan/runtime';
import { EvaluatorError, EvaluatorErrorCode } from './errors.js';
import { jsonNestingDepth } from './json-depth.js';
import type { RevisionState } from './revision-state.js';

/** The revision a subscription serves. */
export interface EvaluationTarget {
  policyId: string;
  revision: number;
  state: RevisionState;
}

/** The reply to send and what to log about it. */
export interface EvaluationOutcome {
  reply: EvaluationReply;
  /** From the envelope, when it could be read. */
  uid?: string;
  origin?: EvaluationRequest['origin'];
  /** Why the policy gave no verdict of its own, when the reply is the deny standing in for it. */
  failure?: WireError;
}

const utf8 = new TextDecoder();

/**
 * Answers one evaluation request for one revision. Never throws: an envelope or body that cannot be
 * read, a deadline already past, or an AdmissionRequest of the wrong shape become `{ok: false,
 * error}`; a policy that failed to load answers with its deny; anything the policy does (trap,
 * timeout, memory) is already a verdict from the runtime. Any other failure to evaluate a request
 * that was read (one nested too deep to hand to the policy, say) is a deny too: an error reply
 * would have the gateway apply the failure policy, and `Ignore` would admit the request.
 */
export async function answerEvaluation(
  data: Uint8Array,
  target: EvaluationTarget,
  evaluator: PolicyEvaluator,
  now: () => number = Date.now,
): Promise<EvaluationOutcome> {
  let request: EvaluationRequest;
  try {
    request = decodeEvaluationRequest(data);
  } catch (error) {
    return { reply: { ok: false, error: toWireError(error, EvaluatorErrorCode.BodyInvalid, 'envelope') } };
  }
  const { uid, origin } = request;
  const fail = (code: EvaluatorErrorCode, message: string): EvaluationOutcome => ({
    reply: { ok: false, error: { code, message } },
    uid,
    origin,
  });

  if (request.policyId !== target.policyId || request.revision !== target.revision) {
    return fail(
      EvaluatorErrorCode.RequestMisrouted,
      `the request names policy "${request.policyId}" revision ${request.revision}, but was sent to the subject of policy "${target.policyId}" revision ${target.revision}`,
    );
  }
  if (request.deadline <= now()) {
    return fail(
      EvaluatorErrorCode.DeadlinePassed,
      `the request's deadline passed ${now() - request.deadline} ms before an evaluator took it; it was not evaluated`,
    );
  }
  const { state } = target;
  if (state.kind === 'failed') {
    return {
      reply: { ok: true, response: wireResponse(rejection(uid, state.error.message, 500)) },
      uid,
      origin,
    };
  }

  let document: unknown;
  try {
    document = JSON.parse(utf8.decode(request.body));
  } catch (error) {
    return fail(EvaluatorErrorCode.BodyInvalid, `the ${origin} body is not valid JSON: ${messageOf(error)}`);
  }
  if (
    typeof document !== 'object' ||
    document === null ||
    Array.isArray(document) ||
    !('request' in document)
  ) {
    return fail(
      EvaluatorErrorCode.BodyInvalid,
      origin === 'validate_raw'
        ? 'the validate_raw body must be a JSON object with a "request" field'
        : 'the body must be an AdmissionReview: a JSON object with a "request" field',
    );
  }

  // Past the deadline the gateway has answered by failure policy: running it would be wasted.
  const options = { raw: origin === 'validate_raw', notAfter: request.deadline };
  const run = (policy: LoadedPolicy): Promise<AdmissionResponse> =>
    evaluator.validate(policy, document, options).catch((error: unknown) => {
      throw explainFailure(error, policy.policyId, request.body);
    });
  try {
    const response =
      state.kind === 'group'
        ? await evaluatePolicyGroup({
            uid,
            expression: state.expression,
            message: state.message,
            runMember: async (member) => {
              const loaded = state.members.get(member);
              if (!loaded) throw new Error(`no member named ${member}`);
              return run(loaded.policy);
            },
          })
        : await run(state.policy);
    return { reply: { ok: true, response: wireResponse(response) }, uid, origin };
  } catch (error) {
    const wire = toWireError(error, EvaluatorErrorCode.EvaluationFailed, `policy ${target.policyId}`);
    if (wire.code !== EvaluatorErrorCode.EvaluationFailed) {
      return { reply: { ok: false, error: wire }, uid, origin };
    }
    const response = wireResponse(rejection(uid, wire.message, 500));
    return { reply: { ok: true, response }, uid, origin, failure: wire };
  }
}

/**
 * The error to answer for a policy that could not evaluate a request: the runtime's own checks of
 * the AdmissionRequest keep their code (`CASTELLAN_RUNTIME_REQUEST_INVALID`, an error reply), and
 * anything else becomes `CASTELLAN_EVAL_EVALUATION_FAILED`, saying why. JSON nested thousands of
 * levels deep parses, but overflows the stack of whatever walks it before the policy sees it.
 */
function explainFailure(error: unknown, policyId: string, body: Uint8Array): unknown {
  if (error instanceof Error && 'code' in error && error.code === RuntimeErrorCode.RequestInvalid) {
    return error;
  }
  const reason =
    error instanceof RangeError && /call stack/i.test(error.message)
      ? `its JSON nests ${jsonNestingDepth(body)} levels deep, too deep to hand to a policy`
      : messageOf(error);
  return new EvaluatorError(
    EvaluatorErrorCode.EvaluationFailed,
    `policy ${policyId} could not evaluate the request: ${reason}`,
    { cause: error },
  );
}

/** The response as a CBOR map: fields left undefined are dropped rather than sent as CBOR `undefined`. */
function wireResponse(response: AdmissionResponse): MessageFields {
  return withoutUndefined(response) as MessageFields;
}

function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (typeof value !== 'object' || value === null) return value;
  const fields: MessageFields = {};
  for (const key of Object.keys(value)) {
    const field = (value as MessageFields)[key];
    if (field !== undefined) fields[key] = withoutUndefined(field);
  }
  return fields;
}
