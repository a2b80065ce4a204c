// deploy/ against a real kube-apiserver: every CRD, every rendered manifest (the Helm chart with each
// values file, the Kustomize overlays generated from it) and every example is accepted by a
// server-side dry run, and the CRDs' own rules — schema and CEL — refuse bad policies with an error
// naming the object and the field.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinary } from '../harness/binaries.js';
import { startControlPlane } from '../harness/control-plane.js';
import type { ControlPlane } from '../harness/control-plane.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const GROUP = 'policies.castellan.dev/v1';

let cluster: ControlPlane;

/** `kubectl apply --server-side --dry-run=server` of a manifest stream; the objects it accepted. */
async function dryRun(manifests: string): Promise<string[]> {
  const result = await cluster.kubectl(
    ['apply', '--server-side', '--dry-run=server', '--field-manager=castellan-test', '-f', '-'],
    manifests,
  );
  if (result.code !== 0) throw new Error(`the API server refused:\n${result.stderr}`);
  return result.stdout.trim().split('\n');
}

async function helmTemplate(chart: string, valuesFile?: string): Promise<string> {
  const helm = await requireBinary('helm');
  const args = ['template', 'castellan', join(repo, 'deploy/charts', chart), '--namespace', 'castellan'];
  const { stdout } = await run(helm, valuesFile ? [...args, '--values', valuesFile] : args, {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

async function kustomize(dir: string): Promise<string> {
  const result = await cluster.kubectl(['kustomize', join(repo, dir)]);
  if (result.code !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr}`);
  return result.stdout;
}

function policy(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: GROUP,
    kind: 'ClusterAdmissionPolicy',
    metadata: { name },
    spec: {
      module: 'registry://ghcr.io/kubewarden/policies/pod-privileged:v0.2.2',
      rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
      mutating: false,
      ...spec,
    },
  });
}

beforeAll(async () => {
  cluster = await startControlPlane();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('deploy/ on a real kube-apiserver', () => {
  it('accepts the CRDs, by a dry run and then for real', async () => {
    expect(await dryRun(await kustomize('deploy/crds'))).toHaveLength(5);
    await cluster.applyCrds();
    const names = await cluster.kubectl(['get', 'crd', '-o', 'name']);
    expect(names.stdout.trim().split('\n').sort()).toEqual([
      'customresourcedefinition.apiextensions.k8s.io/admissionpolicies.policies.castellan.dev',
      'customresourcedefinition.apiextensions.k8s.io/admissionpolicygroups.policies.castellan.dev',
      'customresourcedefinition.apiextensions.k8s.io/clusteradmissionpolicies.policies.castellan.dev',
      'customresourcedefinition.apiextensions.k8s.io/clusteradmissionpolicygroups.policies.castellan.dev',
      'customresourcedefinition.apiextensions.k8s.io/policyservers.policies.castellan.dev',
    ]);
  });

  it('accepts the chart rendered with its default values and with each values file', async () => {
    await cluster.kubectl(['create', 'namespace', 'castellan']);
    const chartDir = join(repo, 'deploy/charts/castellan');
    const valuesFiles = (await readdir(chartDir)).filter((name) => /^values-.+\.yaml$/.test(name));
    for (const values of [undefined, ...valuesFiles.map((name) => join(chartDir, name))]) {
      const accepted = await dryRun(await helmTemplate('castellan', values));
      expect(accepted.every((line) => line.endsWith('(server dry run)'))).toBe(true);
      expect(accepted).toContain('deployment.apps/castellan-gateway serverside-applied (server dry run)');
    }
  });

  it('accepts the Kustomize profiles generated from the chart', async () => {
    for (const overlay of await kustomizeOverlays()) {
      const accepted = await dryRun(await kustomize(overlay));
      expect(accepted).toContain('deployment.apps/castellan-reconciler serverside-applied (server dry run)');
    }
  });

  it('accepts every example policy and PolicyServer', async () => {
    for (const namespace of ['default', 'team-a']) await cluster.kubectl(['create', 'namespace', namespace]);
    const dir = join(repo, 'deploy/examples');
    for (const file of (await readdir(dir)).filter((name) => name.endsWith('.yaml'))) {
      const result = await cluster.kubectl([
        'apply',
        '--server-side',
        '--dry-run=server',
        '-f',
        join(dir, file),
      ]);
      expect(result.stderr, file).toBe('');
      expect(result.code, file).toBe(0);
    }
  });

  it('refuses a policy with an unknown mode, naming the object and the field', async () => {
    const result = await cluster.kubectl(['create', '-f', '-'], policy('bad-mode', { mode: 'enforce' }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('The ClusterAdmissionPolicy "bad-mode" is invalid');
    expect(result.stderr).toContain(
      'spec.mode: Unsupported value: "enforce": supported values: "protect", "monitor"',
    );
  });

  it("enforces the CRDs' CEL rules: protect never becomes monitor, policyServer never changes", async () => {
    const created = await cluster.kubectl(['create', '-f', '-'], policy('guarded', { mode: 'protect' }));
    expect(created.stderr).toBe('');
    const patch = (spec: Record<string, unknown>) =>
      cluster.kubectl([
        'patch',
        'clusteradmissionpolicy',
        'guarded',
        '--type=merge',
        '-p',
        JSON.stringify({ spec }),
      ]);
    const toMonitor = await patch({ mode: 'monitor' });
    expect(toMonitor.code).not.toBe(0);
    expect(toMonitor.stderr).toContain(
      'The ClusterAdmissionPolicy "guarded" is invalid: spec.mode: Invalid value: "monitor": mode cannot go from protect to monitor: delete the policy and create it again in monitor mode',
    );
    const moved = await patch({ policyServer: 'tenant-a' });
    expect(moved.code).not.toBe(0);
    expect(moved.stderr).toContain('spec.policyServer');
    expect(moved.stderr).toContain('policyServer is immutable');
    const timeouts = await cluster.kubectl(
      ['create', '-f', '-'],
      policy('slow', { timeoutSeconds: 5, timeoutEvalSeconds: 8 }),
    );
    expect(timeouts.stderr).toContain('timeoutEvalSeconds must not exceed timeoutSeconds');
  });
});

/** The generated Kustomize profiles (deploy/kustomize/<profile>), each a whole install. */
async function kustomizeOverlays(): Promise<string[]> {
  const overlays = 'deploy/kustomize';
  const entries = await readdir(join(repo, overlays), { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => join(overlays, entry.name));
}
