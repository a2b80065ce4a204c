import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotatePolicy } from '@castellan/runtime';
import type { ModuleBytes, PolicyEvaluator } from '@castellan/runtime';
import { admissionDocument, podRequest, policyBytes } from '../../../test/fixtures/index.js';
import { loadPolicy, startEvaluator } from './evaluator-harness.js';

// test/policies/go/host-network: plain Go, GOOS=wasip1 GOARCH=wasm, built by build.mjs.
const METADATA = new URL('../../../test/policies/go/host-network/metadata.yml', import.meta.url);

let bytes: ModuleBytes;
let evaluator: PolicyEvaluator;

beforeAll(async () => {
  bytes = (
    await annotatePolicy({
      module: await policyBytes('host-network'),
      metadataYaml: await readFile(METADATA, 'utf8'),
    })
  ).module;
  ({ evaluator } = startEvaluator(1));
});
afterAll(async () => {
  await evaluator.close();
});

function hostNetworkPod(uid: string): Record<string, unknown> {
  const request = podRequest({ uid, name: 'sniffer' });
  const object = request.object as { spec: Record<string, unknown> };
  object.spec.hostNetwork = true;
  return request;
}

describe('a Go wasip1 policy (test/policies/go/host-network, Go 1.26)', () => {
  it('compiles on this Node', () => {
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.exports(module).map(({ name }) => name)).toEqual(['_start', 'memory']);
  });

  it('rejects a pod on the host network and admits the others, as a WASI command', async () => {
    const policy = await loadPolicy(evaluator, bytes, { policyId: 'host-network' });
    expect(policy.executionMode).toBe('wasi');
    expect(await evaluator.validate(policy, hostNetworkPod('go-uid-1'))).toMatchObject({
      uid: 'go-uid-1',
      allowed: false,
      status: { message: 'host networking is not allowed' },
    });
    expect(await evaluator.validate(policy, podRequest({ uid: 'go-uid-2' }))).toMatchObject({
      uid: 'go-uid-2',
      allowed: true,
    });
    // A real AdmissionRequest (a privileged pod, not on the host network).
    const review = await admissionDocument('privileged-pod-default');
    expect(await evaluator.validate(policy, review)).toMatchObject({ uid: review.uid, allowed: true });
  });

  it('validates settings through validate-settings, both ways', async () => {
    const accepted = await loadPolicy(evaluator, bytes, { settings: { forbidden: false, other: [1] } });
    expect(await evaluator.validateSettings(accepted)).toEqual({ valid: true });
    const forbidden = await loadPolicy(evaluator, bytes, { settings: { forbidden: true } });
    expect(await evaluator.validateSettings(forbidden)).toEqual({
      valid: false,
      message: 'settings forbid this policy',
    });
  });
});
