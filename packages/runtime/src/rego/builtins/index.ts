/**
 * The Rego builtins a compiled policy calls on its host, implemented the way Kubewarden's Rego engine
 * (burrego) implements them, so a policy produces the same results and messages under Castellan.
 *
 * The map is shaped for `@open-policy-agent/opa-wasm`'s `customBuiltins`. opa-wasm consults its own builtin
 * table first, and its `sprintf`, `json.is_valid`, `regex.split` and `yaml.*` behave differently, so these
 * only take effect if that table is bypassed or emptied (see `engines/opa-wasm.ts`).
 */
import type { RegoBuiltin } from './builtin.js';
import {
  base64UrlEncodeNoPad,
  hexDecode,
  hexEncode,
  urlQueryDecode,
  urlQueryDecodeObject,
  urlQueryEncode,
  urlQueryEncodeObject,
} from './encoding.js';
import { globQuoteMeta } from './glob.js';
import { jsonIsValid, jsonPatchApply } from './json.js';
import { regexFindN, regexSplit, regexTemplateMatch } from './regex.js';
import { semverCompare, semverIsValid } from './semver.js';
import { sprintf } from './sprintf.js';
import { timeDate, timeNowNs, timeParseRfc3339Ns } from './time.js';
import { createTrace } from './trace.js';
import { yamlIsValid, yamlMarshal, yamlUnmarshal } from './yaml.js';

export { RegoBuiltinError } from './builtin.js';
export type { RegoBuiltin } from './builtin.js';

/**
 * Every builtin Kubewarden provides on the host side (docs/kubewarden-compatibility.md#rego-policies); OPA
 * compiles all others into the Wasm.
 */
export const SUPPORTED_REGO_BUILTINS = [
  'trace',
  'base64url.encode_no_pad',
  'urlquery.encode',
  'urlquery.decode',
  'urlquery.encode_object',
  'urlquery.decode_object',
  'json.is_valid',
  'json.patch',
  'yaml.marshal',
  'yaml.unmarshal',
  'yaml.is_valid',
  'hex.encode',
  'hex.decode',
  'glob.quote_meta',
  'regex.split',
  'regex.template_match',
  'regex.find_n',
  'semver.is_valid',
  'semver.compare',
  'sprintf',
  'time.now_ns',
  'time.parse_rfc3339_ns',
  'time.date',
] as const;

export type RegoBuiltinName = (typeof SUPPORTED_REGO_BUILTINS)[number];

export interface RegoBuiltinOptions {
  /** Receives `trace(msg)` messages; burrego logs them at debug level. */
  onTrace?: (message: string) => void;
}

export function createRegoBuiltins(options: RegoBuiltinOptions = {}): Record<RegoBuiltinName, RegoBuiltin> {
  return {
    trace: createTrace(options.onTrace ?? (() => undefined)),
    'base64url.encode_no_pad': base64UrlEncodeNoPad,
    'urlquery.encode': urlQueryEncode,
    'urlquery.decode': urlQueryDecode,
    'urlquery.encode_object': urlQueryEncodeObject,
    'urlquery.decode_object': urlQueryDecodeObject,
    'json.is_valid': jsonIsValid,
    'json.patch': jsonPatchApply,
    'yaml.marshal': yamlMarshal,
    'yaml.unmarshal': yamlUnmarshal,
    'yaml.is_valid': yamlIsValid,
    'hex.encode': hexEncode,
    'hex.decode': hexDecode,
    'glob.quote_meta': globQuoteMeta,
    'regex.split': regexSplit,
    'regex.template_match': regexTemplateMatch,
    'regex.find_n': regexFindN,
    'semver.is_valid': semverIsValid,
    'semver.compare': semverCompare,
    sprintf,
    'time.now_ns': timeNowNs,
    'time.parse_rfc3339_ns': timeParseRfc3339Ns,
    'time.date': timeDate,
  };
}

/** The builtins with `trace` discarding its messages. */
export const regoBuiltins: Record<RegoBuiltinName, RegoBuiltin> = createRegoBuiltins();

const SUPPORTED: ReadonlySet<string> = new Set(SUPPORTED_REGO_BUILTINS);

/**
 * The builtins a policy needs that the host cannot provide (sorted, without duplicates). Kubewarden refuses
 * to load such a policy (`MissingRegoBuiltins`).
 */
export function missingRegoBuiltins(required: readonly string[]): string[] {
  return [...new Set(required)].filter((name) => !SUPPORTED.has(name)).sort();
}
