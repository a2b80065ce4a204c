// Gatekeeper-style fixture, entrypoint 0 `policy/violation`. Input:
// {"parameters": {"forbiddenLabels": [...]}, "review": <AdmissionRequest>}. One violation
// {"msg": "label <key> is forbidden"} per forbidden key present on the object, with the
// message built by the host's `sprintf` builtin. Violations follow the order of
// forbiddenLabels, each key once. Set parameters.debug to get an opa_println line.
import { JSONValue } from '../lib/json';
import { definePolicy, callBuiltin, println } from '../lib/rego';

export * from '../lib/opa';

const SPRINTF = 0; // the id `builtins()` gives sprintf

function violation(entrypoint: i32, input: JSONValue | null, _data: JSONValue | null): JSONValue {
  const violations = JSONValue.newArray();
  const forbidden = input != null ? input.path(['parameters', 'forbiddenLabels']) : null;
  const labels = input != null ? input.path(['review', 'object', 'metadata', 'labels']) : null;
  if (forbidden != null && forbidden.isArray && labels != null && labels.isObject) {
    const keys = new Array<string>();
    for (let i = 0; i < forbidden.length; i++) {
      const key = forbidden.at(i);
      if (key.isString && labels.has(key.text) && !keys.includes(key.text)) keys.push(key.text);
    }
    for (let i = 0; i < keys.length; i++) {
      const args = JSONValue.newArray().push(JSONValue.fromString(keys[i]));
      const msg = callBuiltin(SPRINTF, [JSONValue.fromString('label %s is forbidden'), args]);
      violations.push(JSONValue.newObject().set('msg', msg));
    }
  }
  const debug = input != null ? input.path(['parameters', 'debug']) : null;
  if (debug != null && debug.isTrue) {
    println(
      'rego-gatekeeper: entrypoint ' +
        entrypoint.toString() +
        ', ' +
        violations.length.toString() +
        ' violation(s)',
    );
  }
  return JSONValue.newArray().push(JSONValue.newObject().set('result', violations));
}

definePolicy('{"policy/violation":0}', '{"sprintf":0}', violation);
