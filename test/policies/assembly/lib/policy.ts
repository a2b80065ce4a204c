// Registers the three operations Kubewarden invokes on a waPC policy
// (docs/kubewarden-compatibility.md#wapc-operations).
import { register, fail, Handler } from './guest';
import { parseJSON, JSONValue } from './json';
import { validSettings } from './kubewarden';

export { __guest_call } from './guest';

function anySettingsAreValid(_payload: string): string {
  return validSettings();
}

function protocolVersion(_payload: string): string {
  return '"v1"';
}

export function registerPolicy(validate: Handler, validateSettings: Handler = anySettingsAreValid): void {
  register('validate', validate);
  register('validate_settings', validateSettings);
  register('protocol_version', protocolVersion);
}

/**
 * Parses a request payload. On malformed JSON it records a guest error (see `fail`)
 * and returns an empty object, so a handler can carry on and its result is discarded.
 */
export function parsePayload(payload: string): JSONValue {
  const v = parseJSON(payload);
  if (v != null) return v;
  fail('payload is not valid JSON');
  return JSONValue.newObject();
}
