/**
 * A policy group's verdict (docs/kubewarden-compatibility.md#policy-groups): the group expression decides,
 * calling members only as it needs them, and each evaluated member that counted as false is reported as a
 * cause of the denial.
 */
import { acceptance, rejection } from '../admission/admission-response.js';
import type { AdmissionResponse, StatusCause } from '../admission/types.js';
import { describeError } from '../errors.js';
import { evaluateGroupExpression } from './group-expression.js';
import type { GroupExpression } from './group-expression.js';

/** Groups are validating only: a member's patch cannot be applied, so the member counts as false. */
const MUTATION_MESSAGE = 'mutation is not allowed inside of policy group';

export interface PolicyGroupOptions {
  /** The request's uid, echoed in the answer. */
  uid: string;
  expression: GroupExpression;
  /** The group's `message`, answered when the group denies. */
  message: string;
  /** Evaluates one member policy against the request; called at most once per member. */
  runMember: (member: string) => Promise<AdmissionResponse>;
}

/**
 * The group's AdmissionResponse: allowed with no status, or denied with the group's message and one cause
 * (`spec.policies.<member>`) per evaluated member that counted as false, in the order they ran. A member that
 * fails, or any other failure of the evaluation, answers a 500 rejection. The group's policy mode is applied
 * afterwards, by the caller.
 */
export async function evaluatePolicyGroup({
  uid,
  expression,
  message,
  runMember,
}: PolicyGroupOptions): Promise<AdmissionResponse> {
  const causes: StatusCause[] = [];
  let allowed: boolean;
  try {
    allowed = await evaluateGroupExpression(expression, async (member) => {
      const denial = memberDenial(await runMember(member));
      if (denial === undefined) return true;
      causes.push({ message: denial, field: `spec.policies.${member}` });
      return false;
    });
  } catch (error) {
    return rejection(uid, `error evaluating policy group expression: ${describeError(error)}`, 500);
  }
  if (allowed) return acceptance(uid);
  return {
    uid,
    allowed: false,
    status: { message, details: { causes } },
    auditAnnotations: null,
    warnings: null,
  };
}

/** Why a member's response counts as false, or `undefined` when it counts as true. */
function memberDenial(response: AdmissionResponse): string | undefined {
  if (response.patch !== undefined) return MUTATION_MESSAGE;
  if (!response.allowed) return response.status?.message ?? '';
  return undefined;
}
