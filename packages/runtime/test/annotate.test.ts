import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { annotatePolicy, compilePolicyModule, readPolicyMetadata, RuntimeError } from '@castellan/runtime';
import { metadataPath, policyBytes } from '../../../test/fixtures/index.js';

const metadataYaml = (name: string) => readFile(metadataPath(name), 'utf8');

describe('annotatePolicy (kwctl annotate)', () => {
  it('embeds validated metadata with the detected protocol version and tool annotations', async () => {
    const { module, metadata } = await annotatePolicy({
      module: await policyBytes('pod-privileged'),
      metadataYaml: await metadataYaml('pod-privileged'),
      usage: '# Usage\nDeny privileged containers.',
    });
    expect(metadata.protocolVersion).toBe('v1');
    const embedded = readPolicyMetadata(module);
    expect(embedded).toEqual(metadata);
    expect(embedded?.annotations?.['io.kubewarden.kwctl']).toBe('1.36.0');
    expect(embedded?.annotations?.['io.kubewarden.policy.usage']).toBe(
      '# Usage\nDeny privileged containers.',
    );
    // The annotated module is still a valid, runnable module.
    expect((await compilePolicyModule(module, { requireProtocolVersion: true })).metadata).toEqual(metadata);
  });

  it('replaces an earlier annotation instead of stacking sections', async () => {
    const first = await annotatePolicy({
      module: await policyBytes('accept'),
      metadataYaml: await metadataYaml('accept'),
    });
    const second = await annotatePolicy({
      module: first.module,
      metadataYaml: (await metadataYaml('accept')).replace('backgroundAudit: true', 'backgroundAudit: false'),
    });
    const module = await WebAssembly.compile(second.module);
    expect(WebAssembly.Module.customSections(module, 'io.kubewarden.metadata')).toHaveLength(1);
    expect(readPolicyMetadata(second.module)?.backgroundAudit).toBe(false);
  });

  it('refuses metadata that claims Rego for a waPC module, and invalid rules', async () => {
    const claim = annotatePolicy({
      module: await policyBytes('accept'),
      metadataYaml: 'rules: []\nmutating: false\nexecutionMode: gatekeeper\n',
    });
    await expect(claim).rejects.toThrow(/needs a Rego module/);
    const invalid = await annotatePolicy({
      module: await policyBytes('accept'),
      metadataYaml:
        'rules:\n  - apiGroups: [""]\n    apiVersions: [v1]\n    resources: [pods]\n    operations: [PATCH]\nmutating: false\n',
    }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(RuntimeError);
    expect((invalid as RuntimeError).message).toMatch(/rules\[0\]\.operations\[0\]/);
  });

  it('policy-server strictness: an un-annotated waPC module is refused when a protocol version is required', async () => {
    await expect(
      compilePolicyModule(await policyBytes('accept'), { requireProtocolVersion: true }),
    ).rejects.toThrow(
      /Policy is missing protocol version, which is required for KubewardenWapc execution mode/,
    );
  });
});
