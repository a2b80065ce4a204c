// validate executes `unreachable`: used to test how the host reports a trap.
import { registerPolicy } from '../lib/policy';

export { __guest_call } from '../lib/policy';

function validate(_payload: string): string {
  unreachable();
  return '';
}

registerPolicy(validate);
