// Exports `wapc_init`, which the host must call after instantiation
// (docs/kubewarden-compatibility.md#wapc-initialisation); validate reports whether it ran:
// "initialized" or "not initialized".
import { registerPolicy } from '../lib/policy';
import { accepted } from '../lib/kubewarden';

export { __guest_call } from '../lib/policy';

let initialized = false;

export function wapc_init(): void {
  initialized = true;
}

function validate(_payload: string): string {
  return accepted(initialized ? 'initialized' : 'not initialized');
}

registerPolicy(validate);
