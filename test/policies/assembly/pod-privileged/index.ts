// Rejects pods with a privileged container or init container.
import { registerPolicy, parsePayload } from '../lib/policy';
import { accepted, rejected, requestObject } from '../lib/kubewarden';
import { JSONValue } from '../lib/json';

export { __guest_call } from '../lib/policy';

function anyPrivileged(containers: JSONValue | null): bool {
  if (containers == null || !containers.isArray) return false;
  for (let i = 0; i < containers.length; i++) {
    const privileged = containers.at(i).path(['securityContext', 'privileged']);
    if (privileged != null && privileged.isTrue) return true;
  }
  return false;
}

function validate(payload: string): string {
  const object = requestObject(parsePayload(payload));
  const spec = object != null ? object.get('spec') : null;
  if (spec != null && (anyPrivileged(spec.get('containers')) || anyPrivileged(spec.get('initContainers')))) {
    return rejected('Privileged container is not allowed');
  }
  return accepted();
}

registerPolicy(validate);
