// Answers with exactly `settings.response`, re-serialised, so a test can drive every
// field of a ValidationResponse (or send something that is not one at all).
import { registerPolicy, parsePayload } from '../lib/policy';
import { invalidSettings, validSettings, requestSettings } from '../lib/kubewarden';

export { __guest_call } from '../lib/policy';

function validateSettings(payload: string): string {
  return parsePayload(payload).has('response') ? validSettings() : invalidSettings('response is required');
}

function validate(payload: string): string {
  const response = requestSettings(parsePayload(payload)).get('response');
  return response != null ? response.stringify() : 'null';
}

registerPolicy(validate, validateSettings);
