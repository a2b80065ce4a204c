// A policy using typed function references (test/policies/wat/typed-funcref: a global of type
// (ref null $respond), ref.func, call_ref), which Node 20's V8 refuses and Node 24 runs: Castellan's
// own Wasm reader understands its types, snapshots its typed global between calls, and evaluates it.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotatePolicy } from '@castellan/runtime';
import type { ModuleBytes, PolicyEvaluator } from '@castellan/runtime';
import { podRequest, policyBytes } from '../../../test/fixtures/index.js';
import { readDefinedGlobals } from '../src/wasm/globals.js';
import { exportMutableGlobals } from '../src/wasm/instrument.js';
import { loadPolicy, startEvaluator } from './evaluator-harness.js';

const METADATA = new URL('../../../test/policies/wat/typed-funcref/metadata.yml', import.meta.url);

let bytes: ModuleBytes;
let evaluator: PolicyEvaluator;

beforeAll(async () => {
  bytes = (
    await annotatePolicy({
      module: await policyBytes('typed-funcref'),
      metadataYaml: await readFile(METADATA, 'utf8'),
    })
  ).module;
  ({ evaluator } = startEvaluator(1));
});
afterAll(async () => {
  await evaluator.close();
});

describe('a waPC policy using typed function references', () => {
  it('compiles on this Node', () => {
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.exports(module).map(({ name }) => name)).toEqual(['memory', '__guest_call']);
  });

  it('has its typed global read, and exported for snapshots, by Castellan', () => {
    expect(readDefinedGlobals(bytes)).toEqual([{ valueType: '(ref null 0)', mutable: true }]);
    expect(exportMutableGlobals(bytes, 'castellan_global_').globals).toEqual([
      { index: 0, exportName: 'castellan_global_0', type: '(ref null 0)' },
    ]);
  });

  it('validates its settings and answers request after request through call_ref', async () => {
    const policy = await loadPolicy(evaluator, bytes, { policyId: 'typed-funcref' });
    expect(await evaluator.validateSettings(policy)).toEqual({ valid: true });
    for (const uid of ['funcref-1', 'funcref-2', 'funcref-3']) {
      expect(await evaluator.validate(policy, podRequest({ uid }))).toMatchObject({ uid, allowed: true });
    }
  });
});
