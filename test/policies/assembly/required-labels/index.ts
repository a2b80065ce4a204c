// Settings {"labels": ["a", "b"]}: rejects objects lacking any of these labels.
import { registerPolicy, parsePayload } from '../lib/policy';
import {
  accepted,
  rejected,
  invalidSettings,
  validSettings,
  requestObject,
  requestSettings,
} from '../lib/kubewarden';
import { JSONValue } from '../lib/json';

export { __guest_call } from '../lib/policy';

/** The `labels` setting, or null unless it is a list of strings. */
function requiredLabels(settings: JSONValue): JSONValue | null {
  const labels = settings.get('labels');
  if (labels == null || !labels.isArray) return null;
  for (let i = 0; i < labels.length; i++) if (!labels.at(i).isString) return null;
  return labels;
}

function validateSettings(payload: string): string {
  return requiredLabels(parsePayload(payload)) != null
    ? validSettings()
    : invalidSettings('labels must be a list of strings');
}

function validate(payload: string): string {
  const request = parsePayload(payload);
  const required = requiredLabels(requestSettings(request));
  const object = requestObject(request);
  const present = object != null ? object.path(['metadata', 'labels']) : null;
  const missing = new Array<string>();
  if (required != null) {
    for (let i = 0; i < required.length; i++) {
      const name = required.at(i).text;
      if (present == null || !present.has(name)) missing.push(name);
    }
  }
  return missing.length > 0 ? rejected('missing required labels: ' + missing.join(', ')) : accepted();
}

registerPolicy(validate, validateSettings);
