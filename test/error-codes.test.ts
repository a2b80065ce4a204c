import { readFile } from 'node:fs/promises';
import { BusAuthErrorCode } from '@castellan/bus-auth';
import { ControlErrorCode } from '@castellan/control';
import { EvaluatorErrorCode } from '@castellan/evaluator';
import { FetchErrorCode } from '@castellan/fetcher';
import { GatewayErrorCode } from '@castellan/gateway';
import { ModuleStoreErrorCode } from '@castellan/module-store';
import { OciErrorCode } from '@castellan/oci';
import { ProtoErrorCode } from '@castellan/proto';
import { ReconcilerErrorCode } from '@castellan/reconciler';
import { RuntimeErrorCode } from '@castellan/runtime';
import { describe, expect, it } from 'vitest';

/** Every package's error codes, by the prefix its codes share. */
const CODES_BY_PREFIX: Record<string, Record<string, string>> = {
  CASTELLAN_RUNTIME_: RuntimeErrorCode,
  CASTELLAN_PROTO_: ProtoErrorCode,
  CASTELLAN_MODULE_STORE_: ModuleStoreErrorCode,
  CASTELLAN_CONTROL_: ControlErrorCode,
  CASTELLAN_FETCH_: FetchErrorCode,
  CASTELLAN_OCI_: OciErrorCode,
  CASTELLAN_EVAL_: EvaluatorErrorCode,
  CASTELLAN_GATEWAY_: GatewayErrorCode,
  CASTELLAN_RECONCILER_: ReconcilerErrorCode,
  CASTELLAN_BUS_: BusAuthErrorCode,
};

describe('docs/errors.md', () => {
  it.each(Object.entries(CODES_BY_PREFIX))('lists exactly the %s codes', async (prefix, codes) => {
    // The first cell of a table row defines a code; prose may mention codes freely.
    const doc = await readFile(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| *`(CASTELLAN_[A-Z_]+)`/gm)]
      .map((m) => m[1])
      .filter((code) => code?.startsWith(prefix))
      .sort();
    expect(documented).toEqual(Object.values(codes).sort());
  });

  it('never reuses a code', () => {
    const all = Object.values(CODES_BY_PREFIX).flatMap((codes) => Object.values(codes));
    expect(new Set(all).size).toBe(all.length);
  });
});
