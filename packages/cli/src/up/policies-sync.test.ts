import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { ControlErrorCode } from '@castellan/control';
import type { PolicyPublisher, PublishOutcome } from '@castellan/control';
import { OciErrorCode } from '@castellan/oci';
import type { PolicyConfig } from '@castellan/proto';
import { describe, expect, it, vi } from 'vitest';
import { Backoff } from '@castellan/service-host';
import { readPoliciesFile, syncPoliciesFile } from './policies-sync.js';

describe('readPoliciesFile', () => {
  it('resolves the modules of group members as it does those of policies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'castellan-policies-'));
    try {
      const path = join(dir, 'policies.yml');
      await writeFile(
        path,
        [
          'single: {module: ./p.wasm}',
          'group:',
          '  expression: a() && b()',
          '  message: no',
          '  policies: {a: {module: ./a.wasm}, b: {module: "registry://ghcr.io/k/b:v1"}}',
        ].join('\n'),
      );
      const [single, group] = await readPoliciesFile(path);
      expect(single?.moduleUrl).toBe(pathToFileURL(join(dir, 'p.wasm')).href);
      expect(group?.group?.members).toMatchObject({
        a: { moduleUrl: pathToFileURL(join(dir, 'a.wasm')).href },
        b: { moduleUrl: 'registry://ghcr.io/k/b:v1' },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('syncPoliciesFile (a fake publisher in place of NATS)', () => {
  const removed: PublishOutcome[] = [{ policyId: 'old', result: 'removed' }];
  const failed = (code: string): PublishOutcome[] => [
    { policyId: 'p', result: 'failed', error: { code, message: 'no' } },
  ];

  /** Applies `file` through `publisher`, then follows it; `check` sees what was reported. */
  async function following(
    publish: PolicyPublisher['publish'],
    check: (seen: {
      applied: PublishOutcome[][];
      errors: string[];
      retries: number[];
      retried: string[][];
    }) => Promise<void>,
    file = 'p: {module: ./p.wasm}\n',
  ): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'castellan-sync-'));
    const path = join(dir, 'policies.yml');
    const publisher = { publish } as unknown as PolicyPublisher;
    const sync = syncPoliciesFile(path, publisher, 'default', new Backoff(20, 40));
    const seen = {
      applied: [] as PublishOutcome[][],
      errors: [] as string[],
      retries: [] as number[],
      retried: [] as string[][],
    };
    try {
      await writeFile(path, file);
      await sync.apply().catch(() => undefined);
      sync.follow({
        onApplied: (outcomes) => seen.applied.push(outcomes),
        onError: (error) => seen.errors.push(error.message),
        onRetry: (delayMs, policyIds) => {
          seen.retries.push(delayMs);
          seen.retried.push(policyIds);
        },
      });
      await check(seen);
    } finally {
      sync.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('publishes again with backoff, the file untouched, after a publish NATS failed', async () => {
    const publish = vi
      .fn<PolicyPublisher['publish']>()
      .mockRejectedValueOnce(new Error('TIMEOUT'))
      .mockRejectedValueOnce(new Error('TIMEOUT'))
      .mockResolvedValue(removed);
    await following(publish, async (seen) => {
      await vi.waitFor(() => expect(seen.applied).toEqual([removed]), { timeout: 2000 });
      expect(seen.retries).toEqual([20, 40]);
      expect(seen.errors).toEqual(['the policies could not be published (TIMEOUT); is NATS up?']);
    });
    expect(publish).toHaveBeenCalledTimes(3);
  });

  it('retries policies that failed for want of the fetcher, not those the fetcher refused', async () => {
    const publish = vi
      .fn<PolicyPublisher['publish']>()
      .mockResolvedValueOnce(failed(ControlErrorCode.FetcherUnavailable))
      .mockResolvedValue(failed('CASTELLAN_OCI_NOT_FOUND'));
    await following(publish, async (seen) => {
      await vi.waitFor(() => expect(seen.applied).toHaveLength(1), { timeout: 2000 });
      await sleep(200);
      expect(seen.applied).toHaveLength(1);
      expect(seen.retries).toEqual([20]);
    });
    expect(publish).toHaveBeenCalledTimes(2);
  });

  it('retries a policy whose registry was out of reach until it is back, the file untouched', async () => {
    const loaded: PublishOutcome[] = [
      { policyId: 'p', result: 'created', revision: 1, config: {} as PolicyConfig },
    ];
    const publish = vi
      .fn<PolicyPublisher['publish']>()
      .mockResolvedValueOnce(failed(OciErrorCode.RegistryUnavailable))
      .mockResolvedValueOnce(failed(OciErrorCode.RegistryUnavailable))
      .mockResolvedValue(loaded);
    await following(publish, async (seen) => {
      await vi.waitFor(() => expect(seen.applied.at(-1)).toEqual(loaded), { timeout: 2000 });
      expect(seen.retries).toEqual([20, 40]);
      expect(seen.retried).toEqual([['p'], ['p']]);
    });
    expect(publish).toHaveBeenCalledTimes(3);
  });

  it('waits for an edit when the file itself is wrong', async () => {
    const publish = vi.fn<PolicyPublisher['publish']>();
    await following(
      publish,
      async (seen) => {
        await sleep(200);
        expect(seen.retries).toEqual([]);
      },
      'p: [not, a, policy]\n',
    );
    expect(publish).not.toHaveBeenCalled();
  });
});
