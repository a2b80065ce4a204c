// Exercises host capabilities: logs through kubewarden/tracing/log, then asks for a
// resource through kubewarden/kubernetes/get_resource. A failed host call rejects with
// the host's error text; a successful one accepts with the host's response as message.
// Optional setting `getResource`: the get_resource request payload to send instead of
// the default (the cluster-scoped Namespace "default").
import { registerPolicy, parsePayload } from '../lib/policy';
import { hostCall, log } from '../lib/guest';
import { accepted, rejected, requestSettings } from '../lib/kubewarden';

export { __guest_call } from '../lib/policy';

const DEFAULT_GET_RESOURCE = '{"api_version":"v1","kind":"Namespace","name":"default","disable_cache":false}';

function validate(payload: string): string {
  const settings = requestSettings(parsePayload(payload));
  log('tracing-log: validate called');
  hostCall(
    'kubewarden',
    'tracing',
    'log',
    '{"level":"info","message":"hello from policy","policy":"tracing-log"}',
  );
  const custom = settings.get('getResource');
  const result = hostCall(
    'kubewarden',
    'kubernetes',
    'get_resource',
    custom != null ? custom.stringify() : DEFAULT_GET_RESOURCE,
  );
  return result.ok ? accepted(result.text) : rejected(result.text);
}

registerPolicy(validate);
