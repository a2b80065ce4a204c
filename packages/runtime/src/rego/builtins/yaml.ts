/**
 * `yaml.marshal`, `yaml.unmarshal`, `yaml.is_valid` (burrego `crates/burrego/src/builtins/encoding.rs`,
 * serde_yaml 0.9 on libyaml). The `yaml` package is configured to follow serde_yaml where it matters to
 * policies: YAML 1.2 core types without merge keys, duplicate keys and multiple documents rejected, `.nan`
 * and `.inf` turned into `null` (serde_json has no such numbers), and output in serde_yaml's layout (keys
 * sorted as serde_json orders them, sequences not indented under their key, single-quoted ambiguous strings,
 * `|-` blocks for multi-line strings).
 */
import { messageOf } from '@castellan/proto';
import { isScalar, parse, stringify } from 'yaml';
import type { Pair, ParseOptions, ScalarTag, SchemaOptions, Tags } from 'yaml';
import { compareRustStrings, expectArity, expectString, RegoBuiltinError } from './builtin.js';

export function yamlMarshal(...args: unknown[]): string {
  expectArity('yaml.marshal', args, 1, 'wrong number of arguments');
  const text = stringify(args[0], {
    indentSeq: false,
    singleQuote: true,
    blockQuote: 'literal',
    // Sorting the nodes, not the object: JS objects put integer-like keys first whatever the insertion order.
    sortMapEntries: (a, b) => compareRustStrings(keyText(a), keyText(b)),
  });
  return text.startsWith('|') ? indentRootBlockScalar(text) : text;
}

// libyaml indents the lines of a block scalar by two even at the document root; `yaml` does not indent them.
function indentRootBlockScalar(text: string): string {
  const [header = '', ...lines] = text.split('\n');
  return [header, ...lines.map((line) => (line === '' ? line : `  ${line}`))].join('\n');
}

function keyText(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key);
}

export function yamlUnmarshal(...args: unknown[]): unknown {
  const name = 'yaml.unmarshal';
  expectArity(name, args, 1, 'wrong number of arguments');
  const input = expectString(name, args[0], '1st parameter is not a string');
  try {
    return toJsonValue(parseLikeSerdeYaml(input));
  } catch (error) {
    throw new RegoBuiltinError(name, `cannot convert input object to json - ${messageOf(error)}`);
  }
}

export function yamlIsValid(...args: unknown[]): boolean {
  const name = 'yaml.is_valid';
  expectArity(name, args, 1, 'wrong number of arguments');
  const input = expectString(name, args[0], 'parameter is not a string');
  try {
    parseLikeSerdeYaml(input);
    return true;
  } catch {
    return false;
  }
}

function parseLikeSerdeYaml(input: string): unknown {
  return parse(input, PARSE_OPTIONS);
}

// serde_yaml reads digits with a leading zero (`017`, `00`) as strings, where the core schema sees integers.
const DECIMAL_INT = /^[-+]?(?:0|[1-9][0-9]*)$/;

const PARSE_OPTIONS: ParseOptions & SchemaOptions = {
  schema: 'core',
  merge: false,
  uniqueKeys: true,
  customTags: (tags: Tags): Tags =>
    tags.map((tag) => (isDecimalIntTag(tag) ? { ...tag, test: DECIMAL_INT } : tag)),
};

function isDecimalIntTag(tag: Tags[number]): tag is ScalarTag {
  return typeof tag === 'object' && tag.tag === 'tag:yaml.org,2002:int' && tag.format === undefined;
}

function toJsonValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toJsonValue(item)]));
  }
  return value ?? null;
}
