// The subset of OpenAPI v3 that Kubernetes structural schemas use, applied the way the API server
// applies it to a custom resource: defaults first, then validation, with unknown fields refused
// (kubectl's default strict field validation) except under x-kubernetes-preserve-unknown-fields.
// CEL rules (x-kubernetes-validations) are not evaluated here.

export interface CelRule {
  rule: string;
  message?: string;
}

export interface OpenApiSchema {
  type?: string;
  description?: string;
  format?: string;
  properties?: Record<string, OpenApiSchema>;
  additionalProperties?: OpenApiSchema | boolean;
  items?: OpenApiSchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  anyOf?: OpenApiSchema[];
  allOf?: OpenApiSchema[];
  oneOf?: OpenApiSchema[];
  not?: OpenApiSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: CelRule[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * Validates `value` against `schema` after applying the schema's defaults. Returns the defaulted
 * value and every problem found, each prefixed with its path.
 */
export function validateValue(
  schema: OpenApiSchema,
  value: unknown,
  path = '',
): { value: unknown; errors: string[] } {
  const errors: string[] = [];
  const defaulted = check(schema, clone(value), path, errors);
  return { value: defaulted, errors };
}

function check(schema: OpenApiSchema, value: unknown, path: string, errors: string[]): unknown {
  const at = path || '<root>';
  if (value === null) {
    if (!schema.nullable) errors.push(`${at}: must not be null`);
    return value;
  }
  if (schema.enum && !schema.enum.some((allowed) => allowed === value)) {
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value === 'string') checkString(schema, value, at, errors);
    else if (typeOf(value) !== 'integer') errors.push(`${at}: must be an integer or a string`);
    return value;
  }
  if (schema.type === undefined) {
    if (!schema['x-kubernetes-preserve-unknown-fields']) errors.push(`${at}: schema has no type`);
    return value;
  }
  const actual = typeOf(value);
  const typeMatches = actual === schema.type || (schema.type === 'number' && actual === 'integer');
  if (!typeMatches) {
    errors.push(`${at}: must be of type ${schema.type} (got ${actual})`);
    return value;
  }
  switch (schema.type) {
    case 'object':
      return checkObject(schema, value as Record<string, Json>, path, errors);
    case 'array':
      return checkArray(schema, value as Json[], path, errors);
    case 'string':
      checkString(schema, value as string, at, errors);
      return value;
    case 'integer':
    case 'number':
      checkNumber(schema, value as number, at, errors);
      return value;
    default:
      return value;
  }
}

function checkObject(
  schema: OpenApiSchema,
  value: Record<string, Json>,
  path: string,
  errors: string[],
): Record<string, Json> {
  const at = path || '<root>';
  const properties = schema.properties ?? {};
  for (const [name, property] of Object.entries(properties)) {
    if (!(name in value) && property.default !== undefined) value[name] = clone(property.default as Json);
  }
  for (const name of schema.required ?? []) {
    if (!(name in value)) errors.push(`${at}: ${name} is required`);
  }
  const count = Object.keys(value).length;
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    errors.push(`${at}: must have at least ${schema.minProperties} properties`);
  }
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    errors.push(`${at}: must have at most ${schema.maxProperties} properties`);
  }
  for (const [name, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${name}` : name;
    const property = properties[name];
    if (property) {
      value[name] = check(property, child, childPath, errors) as Json;
    } else if (isObject(schema.additionalProperties)) {
      value[name] = check(schema.additionalProperties, child, childPath, errors) as Json;
    } else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) {
      errors.push(`${childPath}: unknown field`);
    }
  }
  return value;
}

function checkArray(schema: OpenApiSchema, value: Json[], path: string, errors: string[]): Json[] {
  const at = path || '<root>';
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    errors.push(`${at}: must have at least ${schema.minItems} items`);
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    errors.push(`${at}: must have at most ${schema.maxItems} items`);
  }
  const items = schema.items;
  const checked = items ? value.map((item, i) => check(items, item, `${path}[${i}]`, errors) as Json) : value;
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'map' || listType === 'set') {
    const keys = listType === 'map' ? (schema['x-kubernetes-list-map-keys'] ?? []) : [];
    const seen = new Set<string>();
    for (const item of checked) {
      const identity = JSON.stringify(listType === 'map' && isObject(item) ? keys.map((k) => item[k]) : item);
      if (seen.has(identity)) errors.push(`${at}: duplicate entry ${identity}`);
      seen.add(identity);
    }
  }
  return checked;
}

function checkString(schema: OpenApiSchema, value: string, at: string, errors: string[]): void {
  const length = [...value].length;
  if (schema.minLength !== undefined && length < schema.minLength) {
    errors.push(`${at}: must be at least ${schema.minLength} characters`);
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    errors.push(`${at}: must be at most ${schema.maxLength} characters`);
  }
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
    errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  }
}

function checkNumber(schema: OpenApiSchema, value: number, at: string, errors: string[]): void {
  if (schema.minimum !== undefined && value < schema.minimum)
    errors.push(`${at}: must be >= ${schema.minimum}`);
  if (schema.maximum !== undefined && value > schema.maximum)
    errors.push(`${at}: must be <= ${schema.maximum}`);
  if (schema.format === 'int32' && (value < INT32.min || value > INT32.max))
    errors.push(`${at}: not an int32`);
}

/** Every schema node below `schema`, with its path (`a.b`, `a[*]` for map values, `a[]` for items). */
export function* schemaNodes(schema: OpenApiSchema, path = ''): Generator<[string, OpenApiSchema]> {
  yield [path, schema];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    yield* schemaNodes(property, path ? `${path}.${name}` : name);
  }
  if (isObject(schema.additionalProperties)) yield* schemaNodes(schema.additionalProperties, `${path}[*]`);
  if (schema.items) yield* schemaNodes(schema.items, `${path}[]`);
}

const JUNCTORS = ['anyOf', 'allOf', 'oneOf', 'not'] as const;

/**
 * Violations of the structural-schema rules the API server enforces on a CRD's openAPIV3Schema
 * (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema),
 * plus defaults that do not validate against their own schema.
 */
export function structuralProblems(root: OpenApiSchema): string[] {
  const problems: string[] = [];
  for (const [path, node] of schemaNodes(root)) {
    const at = path || '<root>';
    const intOrString = node['x-kubernetes-int-or-string'] === true;
    const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
    if (!node.type && !intOrString && !preserve) problems.push(`${at}: no type`);
    if (node['x-kubernetes-preserve-unknown-fields'] === false) {
      problems.push(`${at}: x-kubernetes-preserve-unknown-fields: false is not allowed`);
    }
    if (node.properties && node.additionalProperties !== undefined) {
      problems.push(`${at}: properties and additionalProperties together`);
    }
    if (node.additionalProperties === true || node.additionalProperties === false) {
      problems.push(`${at}: additionalProperties must be a schema`);
    }
    for (const junctor of JUNCTORS) {
      if (node[junctor] === undefined) continue;
      const isIntOrStringPattern =
        junctor === 'anyOf' &&
        intOrString &&
        JSON.stringify(node.anyOf) === JSON.stringify([{ type: 'integer' }, { type: 'string' }]);
      if (!isIntOrStringPattern)
        problems.push(`${at}: ${junctor} is only used for x-kubernetes-int-or-string`);
    }
    if (intOrString && node.type !== undefined) problems.push(`${at}: int-or-string with a type`);
    if (node['x-kubernetes-list-type'] === 'map') {
      const keys = node['x-kubernetes-list-map-keys'] ?? [];
      const item = node.items;
      if (keys.length === 0 || item?.type !== 'object')
        problems.push(`${at}: list-type map needs object items and keys`);
      for (const key of keys) {
        const keySchema = item?.properties?.[key];
        const requiredOrDefaulted = item?.required?.includes(key) || keySchema?.default !== undefined;
        if (!keySchema || !requiredOrDefaulted)
          problems.push(`${at}: map key ${key} must be required or defaulted`);
      }
    }
    if (node.default !== undefined) {
      const { errors } = validateValue({ ...node, default: undefined }, node.default, `${at} (default)`);
      problems.push(...errors);
    }
  }
  const metadata = root.properties?.metadata;
  if (metadata) {
    const allowed = new Set(['name', 'generateName']);
    const extraKeys = Object.keys(metadata).filter((k) => !['type', 'properties', 'description'].includes(k));
    const extraProperties = Object.keys(metadata.properties ?? {}).filter((k) => !allowed.has(k));
    if (metadata.type !== 'object' || extraKeys.length > 0 || extraProperties.length > 0) {
      problems.push('metadata: only restrictions on metadata.name and metadata.generateName are allowed');
    }
  }
  return problems;
}

/** The schema at a printer-column JSONPath such as `.spec.policyServer`; undefined if absent. */
export function schemaAtJsonPath(root: OpenApiSchema, jsonPath: string): OpenApiSchema | undefined {
  let node: OpenApiSchema | undefined = root;
  for (const segment of jsonPath.replace(/^\./, '').split('.')) {
    node = node?.properties?.[segment];
  }
  return node;
}
