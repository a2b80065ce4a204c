import { execFile } from 'node:child_process';
import { access, constants, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { OpenApiSchema } from './openapi.js';
import { validateValue } from './openapi.js';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
export const deployDir = join(repo, 'deploy');

const KUBECTL = '/usr/bin/kubectl';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
  volumes?: {
    name: string;
    secret?: { secretName: string };
    configMap?: { name: string };
    projected?: { sources: { configMap?: { name: string }; secret?: { name: string } }[] };
  }[];
  affinity?: {
    podAntiAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: {
        topologyKey: string;
        labelSelector?: LabelSelector;
      }[];
      preferredDuringSchedulingIgnoredDuringExecution?: {
        podAffinityTerm: { topologyKey: string; labelSelector?: LabelSelector };
      }[];
    };
  };
  topologySpreadConstraints?: { topologyKey: string; labelSelector?: LabelSelector }[];
}

export interface Workload extends KubeObject {
  spec: {
    replicas?: number;
    selector: LabelSelector;
    serviceName?: string;
    podManagementPolicy?: string;
    template: { metadata: { labels?: Record<string, string> }; spec: PodSpec };
  };
}

export interface CustomResourceDefinition extends KubeObject {
  spec: {
    group: string;
    scope: 'Cluster' | 'Namespaced';
    names: { kind: string; plural: string; singular: string; shortNames?: string[]; listKind: string };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; jsonPath: string; type: string }[];
      schema: { openAPIV3Schema: OpenApiSchema };
    }[];
  };
}

/** Parses multi-document YAML, failing on any syntax error. */
export function parseYamlDocuments(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      throw new Error(`${source}: ${document.errors.map((e) => e.message).join('; ')}`);
    }
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) objects.push(value as KubeObject);
  }
  return objects;
}

async function requireKubectl(): Promise<void> {
  try {
    await access(KUBECTL, constants.X_OK);
  } catch {
    throw new Error(
      `${KUBECTL} not found: the deploy tests render deploy/kustomize with \`kubectl kustomize\`. Install kubectl ` +
        '(>= 1.27, it embeds kustomize 5): `curl -LO https://dl.k8s.io/release/v1.32.0/bin/linux/amd64/kubectl ' +
        '&& sudo install -m 0755 kubectl /usr/bin/kubectl`',
    );
  }
}

/** `kubectl kustomize <dir>`, parsed. */
export async function kustomize(dir: string): Promise<KubeObject[]> {
  await requireKubectl();
  const { stdout } = await promisify(execFile)(KUBECTL, ['kustomize', dir], { maxBuffer: 64 * 1024 * 1024 });
  return parseYamlDocuments(stdout, `kubectl kustomize ${dir}`);
}

export async function readYamlDir(dir: string): Promise<{ file: string; objects: KubeObject[] }[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  return Promise.all(
    files.map(async (file) => ({
      file,
      objects: parseYamlDocuments(await readFile(join(dir, file), 'utf8'), file),
    })),
  );
}

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

type ModelClass = new (data: unknown) => { validate(): void };

/** The kubernetes-models module of a built-in kind: `apps/v1` Deployment → `kubernetes-models/apps/v1/Deployment`. */
export function modelModule(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** Validates a built-in object with its kubernetes-models class; throws with the object's name on failure. */
export async function validateBuiltIn(object: KubeObject): Promise<void> {
  const specifier = modelModule(object.apiVersion, object.kind);
  let loaded: unknown;
  try {
    loaded = await import(specifier);
  } catch (cause) {
    throw new Error(`no kubernetes-models class for ${object.apiVersion} ${object.kind} (${specifier})`, {
      cause,
    });
  }
  const Model = (loaded as Record<string, ModelClass | undefined>)[object.kind];
  if (!Model) throw new Error(`${specifier} exports no ${object.kind}`);
  try {
    new Model(object).validate();
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new Error(`${object.kind} ${object.metadata.name}: ${detail}`, { cause });
  }
}

/** Validates a custom resource against the v1 schema of its CRD the way the API server would. */
export function validateCustomResource(
  crds: readonly CustomResourceDefinition[],
  object: KubeObject,
): { value: Record<string, unknown>; errors: string[] } {
  const group = groupOf(object.apiVersion);
  const version = object.apiVersion.slice(group.length + 1);
  const crd = crds.find((c) => c.spec.group === group && c.spec.names.kind === object.kind);
  const served = crd?.spec.versions.find((v) => v.name === version && v.served);
  if (!crd || !served)
    return { value: object, errors: [`no CRD serves ${object.apiVersion} ${object.kind}`] };
  const errors: string[] = [];
  const { metadata, ...rest } = object;
  if (!metadata?.name) errors.push('metadata.name is required');
  if (crd.spec.scope === 'Namespaced' && !metadata?.namespace) errors.push('metadata.namespace is required');
  if (crd.spec.scope === 'Cluster' && metadata?.namespace)
    errors.push('metadata.namespace set on a cluster-scoped kind');
  const result = validateValue(served.schema.openAPIV3Schema, rest);
  return { value: { ...(result.value as object), metadata }, errors: [...errors, ...result.errors] };
}

export function named<T extends KubeObject>(objects: readonly KubeObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found as T;
}

/** The data of a ConfigMap. The chart names them plainly; a pod-template checksum rolls their readers. */
export function configMapData(objects: readonly KubeObject[], name: string): Record<string, string> {
  const found = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
  if (!found) throw new Error(`no ConfigMap ${name}`);
  return (found as KubeObject & { data: Record<string, string> }).data;
}

/** A container's effective environment: envFrom ConfigMaps, then env (which wins). */
export function effectiveEnv(objects: readonly KubeObject[], container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (!name) continue;
    const configMap = objects.find(
      (o): o is KubeObject & { data?: Record<string, string> } =>
        o.kind === 'ConfigMap' && o.metadata.name === name,
    );
    if (!configMap) throw new Error(`container ${container.name}: envFrom names a missing ConfigMap ${name}`);
    Object.assign(env, configMap.data);
  }
  for (const variable of container.env ?? []) {
    env[variable.name] = variable.value ?? `<from ${JSON.stringify(variable.valueFrom)}>`;
  }
  return env;
}

export function workloads(objects: readonly KubeObject[]): Workload[] {
  return objects.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'StatefulSet');
}

export function selects(
  selector: LabelSelector | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  const wanted = Object.entries(selector?.matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => labels?.[key] === value);
}
