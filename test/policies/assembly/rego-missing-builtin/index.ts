// Declares that it needs the `http.send` builtin, which no Kubewarden host provides, so
// loading it must fail. Were it evaluated anyway, it would call the builtin.
import { JSONValue, parseJSON } from '../lib/json';
import { definePolicy, callBuiltin } from '../lib/rego';

export * from '../lib/opa';

const HTTP_SEND = 0;

function main(_entrypoint: i32, _input: JSONValue | null, _data: JSONValue | null): JSONValue {
  const request = <JSONValue>parseJSON('{"method":"get","url":"https://example.invalid/"}');
  const response = callBuiltin(HTTP_SEND, [request]);
  return JSONValue.newArray().push(JSONValue.newObject().set('result', response));
}

definePolicy('{"policy/main":0}', '{"http.send":0}', main);
