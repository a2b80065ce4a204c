import { describe, expect, it } from 'vitest';
import type { AdmissionResponse } from '../admission/types.js';
import { parseGroupExpression } from './group-expression.js';
import { evaluatePolicyGroup } from './policy-group.js';

const UID = 'req-7';
const GROUP_MESSAGE = 'the pod must run as non-root or be signed';
const MUTATION_MESSAGE = 'mutation is not allowed inside of policy group';

function allow(): AdmissionResponse {
  return { uid: UID, allowed: true, auditAnnotations: null, warnings: null };
}

function deny(message?: string): AdmissionResponse {
  return {
    uid: UID,
    allowed: false,
    ...(message === undefined ? {} : { status: { message, code: 403 } }),
    auditAnnotations: { 'member/decision': 'deny' },
    warnings: ['member warning'],
  };
}

function mutate(allowed: boolean): AdmissionResponse {
  return {
    uid: UID,
    allowed,
    patchType: 'JSONPatch',
    patch: 'W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d',
    status: { message: 'defaulted runAsUser' },
    auditAnnotations: null,
    warnings: null,
  };
}

/** Evaluates the group with members answering from `responses`, recording which members ran. */
async function evaluateGroup(
  text: string,
  responses: Record<string, AdmissionResponse>,
  members: readonly string[] = Object.keys(responses),
): Promise<{ response: AdmissionResponse; ran: string[] }> {
  const ran: string[] = [];
  const response = await evaluatePolicyGroup({
    uid: UID,
    expression: parseGroupExpression(text, members),
    message: GROUP_MESSAGE,
    runMember: (member) => {
      ran.push(member);
      const answer = responses[member];
      return answer === undefined
        ? Promise.reject(new Error(`no response for ${member}`))
        : Promise.resolve(answer);
    },
  });
  return { response, ran };
}

function denial(causes: { field: string; message: string }[]): AdmissionResponse {
  return {
    uid: UID,
    allowed: false,
    status: { message: GROUP_MESSAGE, details: { causes } },
    auditAnnotations: null,
    warnings: null,
  };
}

describe('evaluatePolicyGroup', () => {
  it('allows with no status, annotations or warnings when the expression is true', async () => {
    const { response, ran } = await evaluateGroup('signed() || non_root()', {
      signed: deny('not signed'),
      non_root: allow(),
    });
    expect(response).toStrictEqual({ uid: UID, allowed: true, auditAnnotations: null, warnings: null });
    expect(ran).toEqual(['signed', 'non_root']);
  });

  it('denies with the group message and one cause per evaluated false member, in evaluation order', async () => {
    const { response, ran } = await evaluateGroup('c() || b() || ok() && a()', {
      a: deny('a says no'),
      b: deny('b says no'),
      c: deny('c says no'),
      ok: allow(),
    });
    expect(ran).toEqual(['c', 'b', 'ok', 'a']);
    expect(response).toStrictEqual(
      denial([
        { field: 'spec.policies.c', message: 'c says no' },
        { field: 'spec.policies.b', message: 'b says no' },
        { field: 'spec.policies.a', message: 'a says no' },
      ]),
    );
  });

  it('reports only the members the expression needed', async () => {
    const { response, ran } = await evaluateGroup('a() && b()', {
      a: deny('a says no'),
      b: deny('b says no'),
    });
    expect(ran).toEqual(['a']);
    expect(response).toStrictEqual(denial([{ field: 'spec.policies.a', message: 'a says no' }]));
  });

  it('runs a member once and reports it once, however often the expression names it', async () => {
    const { response, ran } = await evaluateGroup('a() || a() && !(a() == a())', { a: deny('a says no') });
    expect(ran).toEqual(['a']);
    expect(response).toStrictEqual(denial([{ field: 'spec.policies.a', message: 'a says no' }]));
  });

  it('denies with no causes when no evaluated member was false', async () => {
    const { response } = await evaluateGroup('!a()', { a: allow() });
    expect(response).toStrictEqual(denial([]));
  });

  it('answers its own uid, not the members', async () => {
    const response = await evaluatePolicyGroup({
      uid: 'group-uid',
      expression: parseGroupExpression('a()', ['a']),
      message: GROUP_MESSAGE,
      runMember: () => Promise.resolve(allow()),
    });
    expect(response.uid).toBe('group-uid');
  });

  it('reports a denied member without a status message with an empty message', async () => {
    const { response } = await evaluateGroup('a()', { a: deny() });
    expect(response).toStrictEqual(denial([{ field: 'spec.policies.a', message: '' }]));
  });

  it('counts a member that mutates as false, whether or not it allowed', async () => {
    const allowedMutation = await evaluateGroup('a()', { a: mutate(true) });
    expect(allowedMutation.response).toStrictEqual(
      denial([{ field: 'spec.policies.a', message: MUTATION_MESSAGE }]),
    );
    const deniedMutation = await evaluateGroup('a()', { a: mutate(false) });
    expect(deniedMutation.response).toStrictEqual(
      denial([{ field: 'spec.policies.a', message: MUTATION_MESSAGE }]),
    );
    const negated = await evaluateGroup('!a()', { a: mutate(true) });
    expect(negated.response).toStrictEqual({
      uid: UID,
      allowed: true,
      auditAnnotations: null,
      warnings: null,
    });
  });

  it('rejects with 500 when a member fails', async () => {
    const { response, ran } = await evaluateGroup('a() || b() || c()', { a: deny('a says no'), c: allow() }, [
      'a',
      'b',
      'c',
    ]);
    expect(ran).toEqual(['a', 'b']);
    expect(response).toStrictEqual({
      uid: UID,
      allowed: false,
      status: { message: 'error evaluating policy group expression: no response for b', code: 500 },
      auditAnnotations: null,
      warnings: null,
    });
  });

  it('rejects with 500 when a member throws instead of rejecting', async () => {
    const response = await evaluatePolicyGroup({
      uid: UID,
      expression: parseGroupExpression('a()', ['a']),
      message: GROUP_MESSAGE,
      runMember: () => {
        throw new Error('worker gone');
      },
    });
    expect(response).toStrictEqual({
      uid: UID,
      allowed: false,
      status: { message: 'error evaluating policy group expression: worker gone', code: 500 },
      auditAnnotations: null,
      warnings: null,
    });
  });
});
