/**
 * Parsing a policy's replies to `validate` and `validate_settings` exactly as strictly as the reference host's
 * serde structs do: a reply Kubewarden would refuse is refused here, and vice versa.
 */
import { internalError } from './admission-response.js';
import { decodeJsonText, topLevelMemberTexts } from './json-text.js';
import { isJsonObject } from './json-value.js';
import {
  ShapeMismatch,
  describeUnexpected,
  optional,
  readAnyValue,
  readBoolean,
  readString,
  readStringList,
  readStringMap,
  readStruct,
  readU16,
  required,
} from './serde-shape.js';
import type { JsonMember, StructFields } from './serde-shape.js';
import type { AdmissionResponse, SettingsValidationResponse, ValidationResponse } from './types.js';

export type ValidationResponseParse =
  | { ok: true; response: ValidationResponse }
  | {
      ok: false;
      /** What was wrong, prefixed with the failure context. */
      error: string;
      /** The rejection the reference host answers with: code 500, `internal server error: <error>`. */
      rejection(uid: string): AdmissionResponse;
    };

const validationResponseFields: StructFields<ValidationResponse> = {
  accepted: required(readBoolean),
  message: optional(readString),
  code: optional(readU16),
  mutated_object: optional(readAnyValue),
  audit_annotations: optional(readStringMap),
  warnings: optional(readStringList),
};

const settingsValidationResponseFields: StructFields<SettingsValidationResponse> = {
  valid: required(readBoolean),
  message: optional(readString),
};

/**
 * docs/kubewarden-compatibility.md#validation-response. `failureContext` starts the error text: waPC replies
 * use the default, WASI stdout uses `Cannot deserialize policy validation response` (#wasi-policies).
 */
export function parseValidationResponse(
  reply: Uint8Array | string,
  failureContext = 'invalid response from policy',
): ValidationResponseParse {
  try {
    return { ok: true, response: readReply(reply, 'ValidationResponse', validationResponseFields) };
  } catch (failure) {
    const error = `${failureContext}: ${describeFailure(failure)}`;
    return { ok: false, error, rejection: (uid) => internalError(uid, error) };
  }
}

/**
 * docs/kubewarden-compatibility.md#settings-validation. An unparsable reply becomes
 * `{valid: false, message: "<failureContext>: <details>"}`: waPC replies use the default, WASI stdout uses
 * `Cannot deserialize settings validation response` (#wasi-policies).
 */
export function parseSettingsValidationResponse(
  reply: Uint8Array | string,
  failureContext = 'error',
): SettingsValidationResponse {
  try {
    return readReply(reply, 'SettingsValidationResponse', settingsValidationResponseFields);
  } catch (failure) {
    return { valid: false, message: `${failureContext}: ${describeFailure(failure)}` };
  }
}

function readReply<T>(reply: Uint8Array | string, structName: string, fields: StructFields<T>): T {
  const text = decodeJsonText(reply);
  const parsed: unknown = JSON.parse(text);
  if (!isJsonObject(parsed)) {
    throw new ShapeMismatch(
      `invalid type: ${describeUnexpected(parsed, text.trim())}, expected struct ${structName}`,
    );
  }
  // Members are listed from the text, where `parsed` hides repeated keys and how each number was written.
  const members: JsonMember[] = topLevelMemberTexts(text).map(({ key, raw }) => ({
    key,
    raw,
    value: parsed[key],
  }));
  return readStruct(members, fields);
}

function describeFailure(failure: unknown): string {
  if (failure instanceof ShapeMismatch || failure instanceof SyntaxError) return failure.message;
  if (failure instanceof TypeError) return 'invalid unicode code point';
  throw failure;
}
