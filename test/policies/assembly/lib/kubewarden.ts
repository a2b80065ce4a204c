// Kubewarden documents (docs/kubewarden-compatibility.md#validation-response, #settings-validation)
// and types shared by waPC and WASI policies.
import { JSONValue } from './json';

/** ValidationResponse accepting the request, with an optional status message. */
export function accepted(message: string | null = null): string {
  const r = JSONValue.newObject().set('accepted', JSONValue.fromBool(true));
  if (message != null) r.set('message', JSONValue.fromString(message));
  return r.stringify();
}

/** ValidationResponse rejecting the request. */
export function rejected(message: string): string {
  return JSONValue.newObject()
    .set('accepted', JSONValue.fromBool(false))
    .set('message', JSONValue.fromString(message))
    .stringify();
}

export function validSettings(): string {
  return '{"valid":true}';
}

export function invalidSettings(message: string): string {
  return JSONValue.newObject()
    .set('valid', JSONValue.fromBool(false))
    .set('message', JSONValue.fromString(message))
    .stringify();
}

/** `request.object.metadata.labels` style lookups on a ValidationRequest. */
export function requestObject(validationRequest: JSONValue): JSONValue | null {
  return validationRequest.path(['request', 'object']);
}

/** The settings of a ValidationRequest; an empty object when absent. */
export function requestSettings(validationRequest: JSONValue): JSONValue {
  const s = validationRequest.get('settings');
  return s != null ? s : JSONValue.newObject();
}

/** Outcome of a host capability call. */
export class HostCallResult {
  ok: bool;
  /** The response payload on success, the error text on failure. */
  text: string;
  constructor(ok: bool, text: string) {
    this.ok = ok;
    this.text = text;
  }
}
