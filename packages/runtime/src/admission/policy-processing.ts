/**
 * Steps 1–3 of docs/kubewarden-compatibility.md#response-processing: how a policy's configuration (mode,
 * mutation permission, custom message) changes its verdict before it is answered. The order matters; it is
 * the reference host's.
 */
import { canonicalAdmissionResponse } from './admission-response.js';
import type { AdmissionResponse, PolicyMode } from './types.js';

export interface PolicyConfiguration {
  policyId: string;
  policyMode: PolicyMode;
  allowedToMutate: boolean;
  /** Replaces the message of a denial; the policy's own message is kept as a status cause. */
  customMessage?: string | undefined;
}

export function mutationNotAllowedMessage(policyId: string): string {
  return `Request rejected by policy ${policyId}. The policy attempted to mutate the request, but it is currently configured to not allow mutations.`;
}

export function applyPolicyConfiguration(
  response: AdmissionResponse,
  configuration: PolicyConfiguration,
): AdmissionResponse {
  // The custom message goes last so that it also replaces the mutation refusal.
  return applyCustomMessage(
    applyMutationConstraint(applyMonitorMode(response, configuration), configuration),
    configuration,
  );
}

/** Monitor mode admits everything; patch and status go too, since the API server reads them only on denial. */
function applyMonitorMode(
  response: AdmissionResponse,
  { policyMode }: PolicyConfiguration,
): AdmissionResponse {
  if (policyMode !== 'monitor') return response;
  return canonicalAdmissionResponse({
    ...response,
    allowed: true,
    patchType: undefined,
    patch: undefined,
    status: undefined,
  });
}

/** A policy not allowed to mutate sits behind a validating webhook, which must not answer with a patch. */
function applyMutationConstraint(
  response: AdmissionResponse,
  configuration: PolicyConfiguration,
): AdmissionResponse {
  const { policyMode, allowedToMutate, policyId } = configuration;
  if (policyMode !== 'protect' || allowedToMutate || response.patch === undefined) return response;
  return canonicalAdmissionResponse({
    ...response,
    allowed: false,
    patchType: undefined,
    patch: undefined,
    status: { message: mutationNotAllowedMessage(policyId) },
  });
}

function applyCustomMessage(
  response: AdmissionResponse,
  { customMessage }: PolicyConfiguration,
): AdmissionResponse {
  if (response.allowed || customMessage === undefined) return response;
  const status = response.status ?? {};
  // Like the reference host, a denial without a message still records an (empty) original message.
  const causes = [...(status.details?.causes ?? []), { message: status.message ?? '' }];
  return canonicalAdmissionResponse({
    ...response,
    status: { ...status, message: customMessage, details: { ...status.details, causes } },
  });
}
