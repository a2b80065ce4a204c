// validate never returns: used to test the host's execution deadline.
import { registerPolicy } from '../lib/policy';
import { accepted } from '../lib/kubewarden';

export { __guest_call } from '../lib/policy';

// Written on every iteration: a loop with a side effect on module state cannot be
// removed by the optimizer, and its condition depends on run-time input.
let spins: u64 = 0;

function validate(payload: string): string {
  while (payload.length > 0) spins++;
  return accepted('unreachable: payload was empty');
}

registerPolicy(validate);
