import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as admission from './index.js';

const review = readFileSync(
  new URL(
    '../../../../test/fixtures/admission-reviews/policy-user-group-reject-request.json',
    import.meta.url,
  ),
  'utf8',
).replaceAll('$req_uid', 'req-42');

describe('admission public API', () => {
  it('exports exactly the documented functions', () => {
    expect(Object.keys(admission).sort()).toEqual([
      'DELETE_MUTATION_MESSAGE',
      'applyPolicyConfiguration',
      'buildAdmissionResponse',
      'canonicalAdmissionResponse',
      'extractAdmissionRequest',
      'gatekeeperInput',
      'gatekeeperResultToAdmissionResponse',
      'internalError',
      'mutationNotAllowedMessage',
      'normaliseAdmissionRequest',
      'opaInput',
      'opaResultToAdmissionResponse',
      'parseSettingsValidationResponse',
      'parseValidationResponse',
      'rejection',
      'requestUid',
    ]);
  });

  it('turns a real AdmissionReview and a guest reply into the answer a protect-mode policy gives', () => {
    const request = admission.extractAdmissionRequest(JSON.parse(review));
    const reply = admission.parseValidationResponse(
      new TextEncoder().encode(
        '{"accepted":false,"message":"User ID 0 is not allowed","code":403,"warnings":null}',
      ),
    );
    if (!reply.ok) throw new Error(reply.error);
    const verdict = admission.buildAdmissionResponse({
      uid: request.uid,
      original: request.object,
      response: reply.response,
    });
    const answer = admission.applyPolicyConfiguration(verdict, {
      policyId: 'psp-user-group',
      policyMode: 'protect',
      allowedToMutate: false,
      customMessage: 'Containers must not run as root',
    });
    expect(JSON.stringify(answer)).toBe(
      '{"uid":"req-42","allowed":false,"status":{"message":"Containers must not run as root",' +
        '"details":{"causes":[{"message":"User ID 0 is not allowed"}]},"code":403},"auditAnnotations":null,"warnings":null}',
    );
  });
});
