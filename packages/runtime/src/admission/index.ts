export type {
  AdmissionRequest,
  AdmissionResponse,
  AdmissionResponseStatus,
  GroupVersionKind,
  GroupVersionResource,
  PolicyMode,
  SettingsValidationResponse,
  StatusCause,
  StatusDetails,
  UserInfo,
  ValidationResponse,
} from './types.js';
export { extractAdmissionRequest, normaliseAdmissionRequest, requestUid } from './admission-request.js';
export {
  DELETE_MUTATION_MESSAGE,
  buildAdmissionResponse,
  canonicalAdmissionResponse,
  gatekeeperInput,
  gatekeeperResultToAdmissionResponse,
  internalError,
  opaInput,
  opaResultToAdmissionResponse,
  rejection,
} from './admission-response.js';
export type { PolicyVerdict } from './admission-response.js';
export { parseSettingsValidationResponse, parseValidationResponse } from './validation-response.js';
export type { ValidationResponseParse } from './validation-response.js';
export { applyPolicyConfiguration, mutationNotAllowedMessage } from './policy-processing.js';
export type { PolicyConfiguration } from './policy-processing.js';
