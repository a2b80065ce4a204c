// What the API server refuses in the built-in kinds the reconciler writes (built-in kinds are
// otherwise not schema-checked): values that do not decode into the Go types (400 BadRequest) and
// the validation rules of Leases and Secrets (422 Invalid).
import { KubeApiError, invalid } from './errors.js';
import type { KubeObject, ResourceType } from './types.js';
import { isPlainObject } from './types.js';

/** metav1.MicroTime's only accepted form: exactly six fractional digits. */
const RFC3339_MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';
const UP_TO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/;
const FRACTION_MICRO = /^\.\d{6}/;
const ZONE = /^(Z|[+-]\d\d:\d\d)$/;

/** Go's base64.StdEncoding (padded) after dropping the CR/LF it ignores. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function cannotDecode(type: ResourceType, detail: string): KubeApiError {
  return new KubeApiError(
    400,
    'BadRequest',
    `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${detail}`,
  );
}

/** Why a MicroTime string fails Go's time.Parse with RFC3339Micro, in Go's words; undefined if it parses. */
function microTimeProblem(value: string): string | undefined {
  const seconds = UP_TO_SECONDS.exec(value)?.[0];
  const rest = seconds === undefined ? value : value.slice(seconds.length);
  let element: [string, string] | undefined;
  if (seconds === undefined) element = [value, '2006'];
  else if (!FRACTION_MICRO.test(rest)) element = [rest, '.000000'];
  else if (!ZONE.test(rest.slice(7))) element = [rest.slice(7), 'Z07:00'];
  if (!element) return undefined;
  const [valueElement, layoutElement] = element;
  return `parsing time "${value}" as "${RFC3339_MICRO_LAYOUT}": cannot parse "${valueElement}" as "${layoutElement}"`;
}

/** The byte offset Go's decoder reports for malformed base64 (first bad character, else the last quantum). */
function base64Problem(value: string): string | undefined {
  const stripped = value.replace(/[\r\n]/g, '');
  if (STD_BASE64.test(stripped)) return undefined;
  const illegal = value.search(/[^A-Za-z0-9+/=\r\n]/);
  const offset = illegal >= 0 ? illegal : Math.max(0, stripped.length - (stripped.length % 4 || 4));
  return `illegal base64 data at input byte ${offset}`;
}

function checkLeaseDecoding(type: ResourceType, object: KubeObject): void {
  const spec = isPlainObject(object.spec) ? object.spec : {};
  for (const field of ['acquireTime', 'renewTime']) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    const problem =
      typeof value === 'string'
        ? microTimeProblem(value)
        : `json: cannot unmarshal ${typeof value} into Go struct field LeaseSpec.spec.${field} of type string`;
    if (problem) throw cannotDecode(type, problem);
  }
  for (const field of ['leaseDurationSeconds', 'leaseTransitions']) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > 2 ** 31) {
      throw cannotDecode(
        type,
        `json: cannot unmarshal ${typeof value === 'number' ? `number ${value}` : typeof value} into Go struct field LeaseSpec.spec.${field} of type int32`,
      );
    }
  }
}

function checkSecretDecoding(type: ResourceType, object: KubeObject): void {
  if (object.data === undefined || object.data === null) return;
  if (!isPlainObject(object.data)) {
    throw cannotDecode(
      type,
      'json: cannot unmarshal data into Go struct field Secret.data of type map[string][]uint8',
    );
  }
  for (const value of Object.values(object.data)) {
    if (value === null) continue;
    const problem =
      typeof value === 'string' ? base64Problem(value) : `json: cannot unmarshal ${typeof value} into []byte`;
    if (problem) throw cannotDecode(type, problem);
  }
}

/** 400 BadRequest for a body that a real API server could not decode into the kind's Go type. */
export function checkBuiltinDecoding(type: ResourceType, object: KubeObject): void {
  if (type.custom) return;
  const kind = `${type.group}/${type.kind}`;
  if (kind === 'coordination.k8s.io/Lease') checkLeaseDecoding(type, object);
  else if (kind === '/Secret') checkSecretDecoding(type, object);
}

function leaseProblems(object: KubeObject): string[] {
  const spec = isPlainObject(object.spec) ? object.spec : {};
  const problems: string[] = [];
  const duration = spec.leaseDurationSeconds;
  if (typeof duration === 'number' && duration <= 0)
    problems.push(`spec.leaseDurationSeconds: Invalid value: ${duration}: must be greater than 0`);
  const transitions = spec.leaseTransitions;
  if (typeof transitions === 'number' && transitions < 0)
    problems.push(`spec.leaseTransitions: Invalid value: ${transitions}: must be greater than or equal to 0`);
  return problems;
}

function secretProblems(object: KubeObject, stored: KubeObject | undefined): string[] {
  const problems: string[] = [];
  const data = isPlainObject(object.data) ? object.data : {};
  if (object.type === 'kubernetes.io/tls') {
    for (const key of ['tls.crt', 'tls.key']) {
      if (!(key in data)) problems.push(`data[${key}]: Required value`);
    }
  }
  if (stored && stored.type !== object.type) {
    problems.push(`type: Invalid value: ${JSON.stringify(object.type)}: field is immutable`);
  }
  return problems;
}

/** 422 Invalid for a Lease or Secret that breaks the API server's validation (after defaulting). */
export function validateBuiltinObject(type: ResourceType, object: KubeObject, stored?: KubeObject): void {
  if (type.custom) return;
  const kind = `${type.group}/${type.kind}`;
  const problems =
    kind === 'coordination.k8s.io/Lease'
      ? leaseProblems(object)
      : kind === '/Secret'
        ? secretProblems(object, stored)
        : [];
  if (problems.length > 0) throw invalid(type, object.metadata.name ?? '', problems);
}
