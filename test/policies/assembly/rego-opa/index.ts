// OPA (kube-mgmt) style fixture, entrypoint 0 `policy/main`. Input {"request": <AdmissionRequest>},
// data = the policy settings. Denies requests whose namespace is listed in
// data.deniedNamespaces. Like Rego, `main` is undefined (empty result set) when
// input.request.uid is missing.
import { JSONValue } from '../lib/json';
import { definePolicy } from '../lib/rego';

export * from '../lib/opa';

function contains(list: JSONValue | null, s: string): bool {
  if (list == null || !list.isArray) return false;
  for (let i = 0; i < list.length; i++) if (list.at(i).isString && list.at(i).text == s) return true;
  return false;
}

function main(_entrypoint: i32, input: JSONValue | null, data: JSONValue | null): JSONValue {
  const request = input != null ? input.get('request') : null;
  const uid = request != null ? request.get('uid') : null;
  if (request == null || uid == null) return JSONValue.newArray();

  const response = JSONValue.newObject().set('uid', uid);
  const namespace = request.getString('namespace');
  if (namespace != null && contains(data != null ? data.get('deniedNamespaces') : null, namespace)) {
    const status = JSONValue.newObject().set(
      'message',
      JSONValue.fromString('namespace ' + namespace + ' is not allowed'),
    );
    response.set('allowed', JSONValue.fromBool(false)).set('status', status);
  } else {
    response.set('allowed', JSONValue.fromBool(true));
  }
  const review = JSONValue.newObject()
    .set('apiVersion', JSONValue.fromString('admission.k8s.io/v1'))
    .set('kind', JSONValue.fromString('AdmissionReview'))
    .set('response', response);
  return JSONValue.newArray().push(JSONValue.newObject().set('result', review));
}

definePolicy('{"policy/main":0}', '{}', main);
