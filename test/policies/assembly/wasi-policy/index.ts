// WASI command-mode policy (docs/kubewarden-compatibility.md#wasi-policies): argv[1] is `validate`
// or `validate-settings`, the request comes on stdin, the answer goes to stdout.
//
// Settings:
//   forbiddenName  string  reject objects with this metadata.name
//   hostCall       bool    also call kubewarden/kubernetes/get_resource (payload: setting
//                          `getResource`, default the Namespace "default"); reject with the
//                          host's error text, or accept with its response as message
//   crash          bool    write "policy crashed on purpose" to stderr and exit with code 2
// Every validate first logs through kubewarden/tracing/log.
import { parseJSON, JSONValue } from '../lib/json';
import { accepted, rejected, validSettings, invalidSettings, requestSettings } from '../lib/kubewarden';
import { readStdin, hostCall, die } from '../lib/wasi';

const DEFAULT_GET_RESOURCE = '{"api_version":"v1","kind":"Namespace","name":"default","disable_cache":false}';

function crashIfAsked(settings: JSONValue): void {
  const crash = settings.get('crash');
  if (crash != null && crash.isTrue) die('policy crashed on purpose', 2);
}

function validateSettings(settings: JSONValue): string {
  crashIfAsked(settings);
  const name = settings.get('forbiddenName');
  if (!settings.isObject || (name != null && !name.isString)) {
    return invalidSettings('forbiddenName must be a string');
  }
  return validSettings();
}

function validate(request: JSONValue): string {
  const settings = requestSettings(request);
  crashIfAsked(settings);
  // The response to a log call is empty; hostCall reads it from stdin all the same.
  hostCall(
    'kubewarden',
    'tracing',
    'log',
    '{"level":"info","message":"hello from policy","policy":"wasi-policy"}',
  );

  let message: string | null = null;
  const wantsHostCall = settings.get('hostCall');
  if (wantsHostCall != null && wantsHostCall.isTrue) {
    const custom = settings.get('getResource');
    const payload = custom != null ? custom.stringify() : DEFAULT_GET_RESOURCE;
    const result = hostCall('kubewarden', 'kubernetes', 'get_resource', payload);
    if (!result.ok) return rejected(result.text);
    message = result.text;
  }

  const forbidden = settings.getString('forbiddenName');
  const name = request.path(['request', 'object', 'metadata', 'name']);
  if (forbidden != null && name != null && name.isString && name.text == forbidden) {
    return rejected('name ' + forbidden + ' is forbidden');
  }
  return accepted(message);
}

function main(): void {
  const action = process.argv.length > 1 ? process.argv[1] : '';
  const input = parseJSON(readStdin());
  if (input == null) {
    die('stdin is not valid JSON', 1);
  } else if (action == 'validate') {
    process.stdout.write(validate(input));
  } else if (action == 'validate-settings') {
    process.stdout.write(validateSettings(input));
  } else {
    die('unknown action "' + action + '": expected validate or validate-settings', 1);
  }
}

// Top-level code becomes the body of the exported `_start`.
main();
