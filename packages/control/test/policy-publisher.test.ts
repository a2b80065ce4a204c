import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bucket, decodePolicyConfig, policyKey, sha256Hex } from '@castellan/proto';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { startProcess } from '../../../test/harness/processes.js';
import type { ServerProcess } from '../../../test/harness/processes.js';
import { desiredPolicyGroup } from '../src/desired-policy.js';
import type { DesiredGroupMember, DesiredPolicy } from '../src/desired-policy.js';
import { FetchClient } from '../src/fetch-client.js';
import { PolicyPublisher } from '../src/policy-publisher.js';

const repo = new URL('../../../', import.meta.url);
const examplePath = (name: string) => fileURLToPath(new URL(`examples/build/${name}.wasm`, repo));
const POOL = 'default';

function member(path: string, timeoutSeconds: number): DesiredGroupMember {
  return { moduleUrl: pathToFileURL(path).href, settings: {}, timeoutSeconds, contextAwareResources: [] };
}

function desiredGroup(policyId: string, members: Record<string, DesiredGroupMember>): DesiredPolicy {
  return desiredPolicyGroup({
    policyId,
    group: { expression: 'privileged() && labelled()', message: 'the pod is not safe', members },
    policyMode: 'protect',
    failurePolicy: 'Fail',
  });
}

// The fetcher runs as its built process (services/fetcher/dist): control talks to it over NATS only.
describe('PolicyPublisher with a real nats-server and fetcher', () => {
  let nats: NatsServer;
  let fetcher: ServerProcess;
  let nc: NatsConnection;
  let publisher: PolicyPublisher;

  beforeAll(async () => {
    nats = await startNatsServer();
    fetcher = startProcess(
      process.execPath,
      [fileURLToPath(new URL('services/fetcher/dist/main.js', repo))],
      {
        ...(await nats.serviceEnv({ role: 'fetcher' })),
        CASTELLAN_FETCHER_FILE_ROOTS: fileURLToPath(new URL('examples/build', repo)),
        CASTELLAN_LOG_LEVEL: 'warn',
      },
    );
    nc = await nats.connect({ role: 'control' });
    // FetchClient asks again while no fetcher is subscribed, so the fetcher's start needs no wait.
    publisher = await PolicyPublisher.open(nc, new FetchClient(nc, 20_000));
  });

  afterAll(async () => {
    await nc?.close();
    await fetcher?.stop();
    await nats?.stop();
  });

  it('writes a group with the digest of every member, in declaration order', async () => {
    const labelled = member(examplePath('required-labels'), 3);
    const privileged = member(examplePath('pod-privileged'), 2);
    const [outcome] = await publisher.publish(POOL, [
      desiredGroup('safe-pods', { privileged, labelled: { ...labelled, settings: { labels: ['team'] } } }),
    ]);
    if (outcome?.result !== 'created') throw new Error(`${JSON.stringify(outcome)}\n${fetcher.output()}`);

    const kv = await new Kvm(nc).open(Bucket.Policies);
    const stored = await kv.get(policyKey(POOL, 'safe-pods'));
    const config = decodePolicyConfig(stored?.value ?? new Uint8Array());
    expect(config.module).toBeUndefined();
    expect(config).toMatchObject({
      settings: {},
      allowedToMutate: false,
      contextAwareResources: [],
      timeoutSeconds: 5,
    });
    expect(Object.keys(config.group?.members ?? {})).toEqual(['privileged', 'labelled']);
    expect(config.group).toEqual({
      expression: 'privileged() && labelled()',
      message: 'the pod is not safe',
      members: {
        privileged: {
          module: {
            url: privileged.moduleUrl,
            sha256: sha256Hex(await readFile(examplePath('pod-privileged'))),
          },
          settings: {},
          timeoutSeconds: 2,
          contextAwareResources: [],
        },
        labelled: {
          module: {
            url: labelled.moduleUrl,
            sha256: sha256Hex(await readFile(examplePath('required-labels'))),
          },
          settings: { labels: ['team'] },
          timeoutSeconds: 3,
          contextAwareResources: [],
        },
      },
    });

    // Level-based: the same group again writes nothing.
    const [again] = await publisher.publish(POOL, [
      desiredGroup('safe-pods', { privileged, labelled: { ...labelled, settings: { labels: ['team'] } } }),
    ]);
    expect(again).toMatchObject({ result: 'unchanged', revision: outcome.revision });
  });

  it('fails a group whose member module is missing, naming the member and keeping the revision', async () => {
    const missing = fileURLToPath(new URL('examples/build/no-such-policy.wasm', repo));
    const [outcome] = await publisher.publish(POOL, [
      desiredGroup('safe-pods', {
        privileged: member(examplePath('pod-privileged'), 2),
        labelled: member(missing, 3),
      }),
    ]);
    expect(outcome).toMatchObject({
      policyId: 'safe-pods',
      result: 'failed',
      error: { code: 'CASTELLAN_OCI_FILE_UNREADABLE' },
    });
    expect(outcome?.result === 'failed' && outcome.error.message).toMatch(
      /^member labelled: cannot read policy module .*no-such-policy\.wasm: no such file$/,
    );

    // The group written by the previous test is still the current revision.
    const kv = await new Kvm(nc).open(Bucket.Policies);
    const stored = await kv.get(policyKey(POOL, 'safe-pods'));
    expect(Object.keys(decodePolicyConfig(stored?.value ?? new Uint8Array()).group?.members ?? {})).toEqual([
      'privileged',
      'labelled',
    ]);
  });

  it('refuses a group without members or with a member name that is not an identifier, writing nothing', async () => {
    const outcomes = await publisher.publish(POOL, [
      desiredGroup('empty-group', {}),
      desiredGroup('odd-member', { 'not-an-identifier': member(examplePath('pod-privileged'), 2) }),
    ]);
    // The group of the earlier tests is no longer desired: its removal is the third outcome.
    expect(outcomes.filter((outcome) => outcome.result !== 'removed')).toMatchObject([
      { policyId: 'empty-group', result: 'failed', error: { code: 'CASTELLAN_CONTROL_POLICY_INVALID' } },
      { policyId: 'odd-member', result: 'failed', error: { code: 'CASTELLAN_CONTROL_POLICY_INVALID' } },
    ]);
    const kv = await new Kvm(nc).open(Bucket.Policies);
    expect(await kv.get(policyKey(POOL, 'empty-group'))).toBeNull();
    expect(await kv.get(policyKey(POOL, 'odd-member'))).toBeNull();
  });
});
