// Counts validate calls in a global and reports the count ("call 1", "call 2", ...).
// A host that creates a fresh instance per request always answers "call 1".
import { registerPolicy } from '../lib/policy';
import { accepted } from '../lib/kubewarden';

export { __guest_call } from '../lib/policy';

let calls: i32 = 0;

function validate(_payload: string): string {
  calls++;
  return accepted('call ' + calls.toString());
}

registerPolicy(validate);
