import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type {
  Container,
  CustomResourceDefinition,
  EnvVar,
  KubeObject,
  SecurityContext,
  Workload,
} from './manifests.js';
import {
  deployDir,
  named,
  parseYamlDocuments,
  repo,
  validateCustomResource,
  workloads,
} from './manifests.js';

// Built from its Go module by tools/build.sh, as the other Go tools the tests run.
const HELM = join(repo, '.tools', 'bin', 'helm');
const CHART = join(deployDir, 'charts', 'castellan');
const CRDS_CHART = join(deployDir, 'charts', 'castellan-crds');
const VALUES_FILES = ['values-trial.yaml', 'values-production.yaml'];
const IMAGE_REPOSITORY = 'ghcr.io/castellan-dev/castellan';

interface HelmRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function requireHelm(): Promise<void> {
  try {
    await access(HELM, constants.X_OK);
  } catch {
    throw new Error(`${HELM} not found: the chart tests run Helm 4. Build it with \`tools/build.sh helm\``);
  }
}

async function helm(...args: string[]): Promise<HelmRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(HELM, args, { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** `helm template` of the castellan chart in the namespace castellan, parsed; throws on failure. */
async function render(...args: string[]): Promise<KubeObject[]> {
  const run = await helm('template', 'castellan', CHART, '--namespace', 'castellan', ...args);
  if (run.code !== 0) throw new Error(`helm template ${args.join(' ')}: ${run.stderr}`);
  return parseYamlDocuments(run.stdout, `helm template ${args.join(' ')}`);
}

type PolicyObject = KubeObject & { spec: { mode: string; policyServer: string; namespaceSelector: unknown } };

type PolicyServerObject = KubeObject & {
  spec: { image: string; securityContexts: { pod: SecurityContext; container: SecurityContext } };
};

function containersOf(objects: readonly KubeObject[]): [Workload, Container][] {
  return workloads(objects).flatMap((w) =>
    w.spec.template.spec.containers.map((c): [Workload, Container] => [w, c]),
  );
}

function envValue(container: Container, name: string): EnvVar | undefined {
  return container.env?.find((variable) => variable.name === name);
}

/** What the restricted Pod Security Standard asks of a pod and its container. */
function restrictedProblems(
  pod: SecurityContext | undefined,
  container: SecurityContext | undefined,
): string[] {
  const problems: string[] = [];
  if (pod?.runAsNonRoot !== true || container?.runAsNonRoot === false) problems.push('runAsNonRoot');
  if (pod?.runAsUser !== 1000) problems.push(`runAsUser ${pod?.runAsUser} (the image's UID is 1000)`);
  if (pod?.seccompProfile?.type !== 'RuntimeDefault') problems.push('pod seccompProfile');
  if (container?.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation');
  if (container?.readOnlyRootFilesystem !== true) problems.push('readOnlyRootFilesystem');
  if (JSON.stringify(container?.capabilities) !== '{"drop":["ALL"]}') problems.push('capabilities');
  return problems;
}

beforeAll(requireHelm);

describe('deploy/charts', () => {
  it('pass helm lint, the castellan chart with each values file', async () => {
    for (const args of [
      [CRDS_CHART],
      [CHART],
      ...VALUES_FILES.map((file) => [CHART, '--values', join(CHART, file)]),
      [CHART, '--set', 'recommendedPolicies.enabled=true'],
    ]) {
      const run = await helm('lint', '--strict', ...args);
      expect(run.code, `helm lint ${args.join(' ')}\n${run.stdout}${run.stderr}`).toBe(0);
    }
  });

  it('install the five CRDs with castellan-crds only', async () => {
    const run = await helm('template', 'castellan-crds', CRDS_CHART);
    const crds = parseYamlDocuments(run.stdout, 'castellan-crds');
    expect(crds.map((o) => o.kind)).toEqual(Array(5).fill('CustomResourceDefinition'));
    for (const file of ['', ...VALUES_FILES]) {
      const objects = await render(...(file ? ['--values', join(CHART, file)] : []));
      expect(objects.filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
    }
  });

  describe('with default values', () => {
    let objects: KubeObject[];

    beforeAll(async () => {
      objects = await render();
    });

    it("run one image everywhere, the chart's appVersion, and the reconciler's CASTELLAN_EVALUATOR_IMAGE too", async () => {
      const chart = await helm('show', 'chart', CHART);
      const appVersion = /^appVersion: '?([^'\n]+)'?$/m.exec(chart.stdout)?.[1];
      const image = `${IMAGE_REPOSITORY}:${appVersion}`;
      const castellan = containersOf(objects).filter(([w]) => w.metadata.name !== 'castellan-nats');
      expect(castellan.map(([, c]) => c.image)).toEqual([image, image, image]);
      expect(named<PolicyServerObject>(objects, 'PolicyServer', 'default').spec.image).toBe(image);
      const reconciler = named<Workload>(objects, 'Deployment', 'castellan-reconciler').spec.template.spec;
      expect(envValue(reconciler.containers[0]!, 'CASTELLAN_EVALUATOR_IMAGE')?.value).toBe(image);
    });

    it('run every pod and the default pool under the restricted Pod Security Standard', () => {
      for (const [workload, container] of containersOf(objects)) {
        const pod = workload.spec.template.spec.securityContext;
        expect(restrictedProblems(pod, container.securityContext), workload.metadata.name).toEqual([]);
      }
      const { pod, container } = named<PolicyServerObject>(objects, 'PolicyServer', 'default').spec
        .securityContexts;
      expect(restrictedProblems(pod, container)).toEqual([]);
    });

    it('mount a ServiceAccount token in the reconciler only', () => {
      const accounts = objects.filter((o) => o.kind === 'ServiceAccount') as (KubeObject & {
        automountServiceAccountToken?: boolean;
      })[];
      const withToken = accounts.filter((a) => a.automountServiceAccountToken !== false);
      expect(withToken.map((a) => a.metadata.name)).toEqual(['castellan-reconciler']);
      for (const workload of workloads(objects)) {
        const pod = workload.spec.template.spec;
        const mounted = pod.automountServiceAccountToken !== false;
        expect(mounted, workload.metadata.name).toBe(pod.serviceAccountName === 'castellan-reconciler');
      }
    });

    it('create neither the namespace nor the recommended policies', () => {
      expect(objects.filter((o) => o.kind === 'Namespace' || o.kind === 'ClusterAdmissionPolicy')).toEqual(
        [],
      );
    });
  });

  it('refuse a value of the wrong type with one line naming it', async () => {
    const run = await helm('template', 'castellan', CHART, '--set', 'gateway.replicas=abc');
    expect(run.code).not.toBe(0);
    const lines = run.stderr.split('\n').filter((line) => /gateway[./]replicas/.test(line));
    expect(lines, run.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/integer/);
    const lint = await helm('lint', CHART, '--set', 'nats.jetstream.replicas=three');
    expect(lint.code).not.toBe(0);
    expect(lint.stdout + lint.stderr).toMatch(/nats[./]jetstream[./]replicas.*integer/);
  });

  it('refuse an unknown key and settings that cannot work together', async () => {
    const cases = [
      [['--set', 'gateway.replica=3'], /replica/],
      [
        ['--set', 'nats.jetstream.replicas=3'],
        /nats\.jetstream\.replicas \(3\) cannot exceed nats\.replicas \(1\)/,
      ],
      [
        ['--set', 'policyServer.default.image.repository=example.com/other'],
        /reconciler\.allowedImageRepositories/,
      ],
    ] as const;
    for (const [args, message] of cases) {
      const run = await helm('template', 'castellan', CHART, ...args);
      expect(run.code, args.join(' ')).not.toBe(0);
      expect(run.stderr).toMatch(message);
    }
  });

  it('set every Castellan image and CASTELLAN_EVALUATOR_IMAGE from image.*', async () => {
    const image = 'registry.example.com/mirror/castellan:9.9.9';
    const objects = await render(
      '--set',
      'image.repository=registry.example.com/mirror/castellan',
      '--set',
      'image.tag=9.9.9',
    );
    const images = containersOf(objects)
      .filter(([w]) => w.metadata.name !== 'castellan-nats')
      .map(([, c]) => c.image);
    expect(new Set(images)).toEqual(new Set([image]));
    expect(named<PolicyServerObject>(objects, 'PolicyServer', 'default').spec.image).toBe(image);
    const reconciler = named<Workload>(objects, 'Deployment', 'castellan-reconciler').spec.template.spec;
    expect(envValue(reconciler.containers[0]!, 'CASTELLAN_EVALUATOR_IMAGE')?.value).toBe(image);
  });

  it('roll the services when castellan-common changes, and NATS when its configuration does', async () => {
    const annotationsOf = (objects: KubeObject[]) =>
      workloads(objects).map(
        (w) => (w.spec.template.metadata as { annotations?: Record<string, string> }).annotations,
      );
    const before = annotationsOf(await render());
    const after = annotationsOf(await render('--set', 'logLevel=debug', '--set', 'nats.maxPayload=4MB'));
    expect(before.map((a) => Object.keys(a ?? {}).filter((k) => k.startsWith('checksum/')))).toEqual(
      after.map((a) => Object.keys(a ?? {}).filter((k) => k.startsWith('checksum/'))),
    );
    for (const [index, annotations] of before.entries()) {
      for (const [key, value] of Object.entries(annotations ?? {}).filter(([k]) =>
        k.startsWith('checksum/'),
      )) {
        expect(after[index]?.[key], key).not.toBe(value);
      }
    }
  });

  it('render the recommended policies in monitor mode, valid against the CRDs, away from system namespaces', async () => {
    const crdRun = await helm('template', 'castellan-crds', CRDS_CHART);
    const crds = parseYamlDocuments(crdRun.stdout, 'castellan-crds') as CustomResourceDefinition[];
    const objects = await render(
      '--set',
      'recommendedPolicies.enabled=true',
      '--set',
      'recommendedPolicies.skipAdditionalNamespaces={cert-manager}',
    );
    const policies = objects.filter((o) => o.kind === 'ClusterAdmissionPolicy') as PolicyObject[];
    expect(policies.map((p) => p.metadata.name)).toEqual(['no-privileged-pod', 'psp-capabilities']);
    for (const policy of policies) {
      expect(validateCustomResource(crds, policy).errors, policy.metadata.name).toEqual([]);
      expect(policy.spec).toMatchObject({ mode: 'monitor', policyServer: 'default' });
      expect(policy.spec.namespaceSelector).toEqual({
        matchExpressions: [
          {
            key: 'kubernetes.io/metadata.name',
            operator: 'NotIn',
            values: ['kube-system', 'castellan', 'cert-manager'],
          },
        ],
      });
    }
    const protect = await render(
      '--set',
      'recommendedPolicies.enabled=true',
      '--set',
      'recommendedPolicies.defaultPolicyMode=protect',
    );
    expect(
      protect.filter((o) => o.kind === 'ClusterAdmissionPolicy').map((p) => (p as PolicyObject).spec.mode),
    ).toEqual(['protect', 'protect']);
  });

  it('are the one source of the Kustomize manifests: deploy/crds and deploy/kustomize are rendered from them as committed', async () => {
    const run = promisify(execFile)(process.execPath, [join(deployDir, 'render-kustomize.mjs'), '--check'], {
      env: { ...process.env, HELM },
    });
    await expect(run.then(() => 'up to date').catch((e: { stderr: string }) => e.stderr)).resolves.toBe(
      'up to date',
    );
  });
});
