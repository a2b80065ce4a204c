/**
 * The admission documents exchanged with the Kubernetes API server (camelCase) and with policies (snake_case),
 * shaped like the typed models of Kubewarden's policy-evaluator so that what we send and answer is the same.
 */

/** How a policy's verdict is applied: `monitor` logs it but always admits. */
export type PolicyMode = 'protect' | 'monitor';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

/** authentication/v1 UserInfo. Keys are listed in the order the reference host serialises them. */
export interface UserInfo {
  extra?: Record<string, string[]>;
  groups?: string[];
  uid?: string;
  username?: string;
}

/** admission/v1 AdmissionRequest as the reference host re-serialises it for a policy. */
export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  name?: string;
  namespace?: string;
  operation: string;
  userInfo: UserInfo;
  /** Absent for DELETE. */
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
  options?: unknown;
}

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface AdmissionResponseStatus {
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

/** admission/v1 AdmissionResponse; `auditAnnotations` and `warnings` are always serialised, `null` when absent. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  /** Standard base64 (with padding) of the JSON text of an RFC 6902 patch. */
  patch?: string;
  status?: AdmissionResponseStatus;
  auditAnnotations: Record<string, string> | null;
  warnings: string[] | null;
}

/** A policy's reply to `validate` (snake_case, as the policy SDKs write it). */
export interface ValidationResponse {
  accepted: boolean;
  message?: string;
  /** Unsigned 16-bit. */
  code?: number;
  /** The whole mutated object; present only when a mutating policy changed it. */
  mutated_object?: unknown;
  audit_annotations?: Record<string, string>;
  warnings?: string[];
}

/** A policy's reply to `validate_settings`. */
export interface SettingsValidationResponse {
  valid: boolean;
  message?: string;
}
