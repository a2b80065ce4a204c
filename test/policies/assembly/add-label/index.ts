// Mutating: adds the label castellan.dev/mutated=true to request.object.
// Without request.object (DELETE) it still answers with mutated_object {}, so a test
// can check that the host refuses a mutation of a DELETE.
import { registerPolicy, parsePayload } from '../lib/policy';
import { requestObject } from '../lib/kubewarden';
import { JSONValue } from '../lib/json';

export { __guest_call } from '../lib/policy';

/** Member `key` of `parent`, created as an empty object when missing or not an object. */
function childObject(parent: JSONValue, key: string): JSONValue {
  const existing = parent.get(key);
  if (existing != null && existing.isObject) return existing;
  const created = JSONValue.newObject();
  parent.set(key, created);
  return created;
}

function validate(payload: string): string {
  const object = requestObject(parsePayload(payload));
  let mutated: JSONValue;
  if (object != null && object.isObject) {
    mutated = object;
    childObject(childObject(mutated, 'metadata'), 'labels').set(
      'castellan.dev/mutated',
      JSONValue.fromString('true'),
    );
  } else {
    mutated = JSONValue.newObject();
  }
  return JSONValue.newObject()
    .set('accepted', JSONValue.fromBool(true))
    .set('mutated_object', mutated)
    .stringify();
}

registerPolicy(validate);
