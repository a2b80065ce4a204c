import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolView } from '../src/index.js';
import type { ModuleSource } from '../src/index.js';
import {
  GRACE_MS,
  HEARTBEAT_MS,
  hasNoResponders,
  logger,
  podReview,
  policyConfig,
  putPolicy,
  readStatus,
  send,
  sleep,
  startEvaluator,
  startTestNats,
  verdict,
  waitFor,
  waitForServed,
} from './helpers.js';
import type { StartedEvaluator, TestNats } from './helpers.js';

const POOL = 'duo';
/** Long enough to observe the old revision still answering right after the hand-over. */
const DUO_GRACE_MS = 1_000;

/** The real module store, holding back the reads of some modules until released. */
class GatedModuleSource implements ModuleSource {
  private readonly held = new Map<string, Promise<void>>();
  private readonly releases: (() => void)[] = [];

  constructor(private readonly inner: ModuleSource) {}

  hold(sha256: string): void {
    this.held.set(sha256, new Promise((resolve) => this.releases.push(resolve)));
  }

  releaseAll(): void {
    for (const release of this.releases.splice(0)) release();
  }

  async get(sha256: string): Promise<Uint8Array> {
    await this.held.get(sha256);
    return this.inner.get(sha256);
  }
}

describe('revision hand-over between evaluators of one pool (real nats-server -js)', () => {
  let nats: TestNats;
  let fast: StartedEvaluator;
  let slow: StartedEvaluator;
  let slowSource: GatedModuleSource;
  const started: StartedEvaluator[] = [];
  const target = (revision: number) => ({ pool: POOL, policyId: 'swap', revision });

  beforeAll(async () => {
    nats = await startTestNats(['accept', 'pod-privileged']);
    slowSource = new GatedModuleSource(nats.store);
    fast = await startEvaluator(nats, POOL, { id: 'fast', graceMs: DUO_GRACE_MS });
    slow = await startEvaluator(nats, POOL, { id: 'slow', graceMs: DUO_GRACE_MS, moduleSource: slowSource });
    started.push(fast, slow);
  });

  afterAll(async () => {
    slowSource?.releaseAll();
    await Promise.all(started.map((evaluator) => evaluator.service.stop()));
    await nats?.close();
  });

  it('keeps serving the old revision until every live evaluator reports the new one, plus the grace period', async () => {
    const first = await putPolicy(nats, policyConfig(POOL, 'swap', nats.modules.accept!));
    await waitForServed(nats, POOL, 'fast', 'swap', first);
    await waitForServed(nats, POOL, 'slow', 'swap', first);

    slowSource.hold(nats.modules['pod-privileged']!);
    const second = await putPolicy(nats, policyConfig(POOL, 'swap', nats.modules['pod-privileged']!));
    await waitForServed(nats, POOL, 'fast', 'swap', second);
    expect((await readStatus(nats, POOL, 'slow'))?.loaded.swap).toBe(first);

    // Well past the grace period: the slow evaluator still reports the first revision.
    await sleep(DUO_GRACE_MS + 2 * HEARTBEAT_MS);
    expect(fast.service.served().swap).toEqual([first, second]);
    for (let i = 0; i < 4; i++) {
      expect(
        verdict(await send(nats.nc, target(first), podReview(`old-${i}`, { privileged: true }))).allowed,
      ).toBe(true);
    }
    const fromNew = verdict(await send(nats.nc, target(second), podReview('new', { privileged: true })));
    expect(fromNew.status?.message).toBe('Privileged container is not allowed');

    slowSource.releaseAll();
    await waitForServed(nats, POOL, 'slow', 'swap', second);
    // Both report the new revision: the old one answers for the grace period still.
    expect(verdict(await send(nats.nc, target(first), podReview('in-grace'))).allowed).toBe(true);
    await waitFor(
      'the old revision has no responders',
      () => hasNoResponders(nats.nc, target(first)).then((gone) => gone || undefined),
      DUO_GRACE_MS + 3_000,
    );
    expect(fast.service.served().swap).toEqual([second]);
    expect(slow.service.served().swap).toEqual([second]);
  });

  it('counts an evaluator that stopped heartbeating as dead after 3 beats, and completes the rollout without it', async () => {
    const current = (await readStatus(nats, POOL, 'fast'))!.loaded.swap!;
    const doomed = await startEvaluator(nats, POOL, { id: 'doomed', graceMs: DUO_GRACE_MS });
    started.push(doomed);
    await waitForServed(nats, POOL, 'doomed', 'swap', current);
    const view = await PoolView.open(nats.nc, nats.evaluators, POOL, () => undefined, logger);
    try {
      await waitFor('the view sees three live evaluators', () =>
        view.live().length === 3 ? true : undefined,
      );

      // Killed without draining: its connection goes, its status stays with an old heartbeat.
      await doomed.nc.close();
      const killedAt = Date.now();
      const next = await putPolicy(nats, policyConfig(POOL, 'swap', nats.modules.accept!));
      await waitForServed(nats, POOL, 'fast', 'swap', next);
      await waitForServed(nats, POOL, 'slow', 'swap', next);
      expect((await readStatus(nats, POOL, 'doomed'))?.loaded.swap).toBe(current);
      if (Date.now() - killedAt < 3 * HEARTBEAT_MS) {
        // The dead evaluator still counts as live: the old revision is kept.
        const kept = verdict(await send(nats.nc, target(current), podReview('kept', { privileged: true })));
        expect(kept.status?.message).toBe('Privileged container is not allowed');
      }

      await waitFor('the dead evaluator drops out of the live set', () =>
        view.live().some((status) => status.evaluatorId === 'doomed') ? undefined : true,
      );
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(3 * HEARTBEAT_MS - 50);
      expect(
        view
          .live()
          .map((status) => status.evaluatorId)
          .sort(),
      ).toEqual(['fast', 'slow']);
      await waitFor(
        'the rollout completes without it',
        () => hasNoResponders(nats.nc, target(current)).then((gone) => gone || undefined),
        DUO_GRACE_MS + 3_000,
      );
      expect(verdict(await send(nats.nc, target(next), podReview('after'))).allowed).toBe(true);
    } finally {
      view.stop();
    }
    // Stopping what is left of it on a closed connection still finishes.
    await doomed.service.stop();
  });

  it('drops a revision superseded while it was loading: the newest wins', async () => {
    const before = (await readStatus(nats, POOL, 'slow'))!.loaded.swap!;
    slowSource.hold(nats.modules['pod-privileged']!);
    const superseded = await putPolicy(nats, policyConfig(POOL, 'swap', nats.modules['pod-privileged']!));
    await waitForServed(nats, POOL, 'fast', 'swap', superseded);
    const newest = await putPolicy(nats, policyConfig(POOL, 'swap', nats.modules.accept!));
    await waitForServed(nats, POOL, 'fast', 'swap', newest);
    expect((await readStatus(nats, POOL, 'slow'))?.loaded.swap).toBe(before);

    slowSource.releaseAll();
    await waitForServed(nats, POOL, 'slow', 'swap', newest);
    await waitFor(
      'the pool settles on the newest revision',
      () =>
        slow.service.served().swap?.join() === String(newest) &&
        fast.service.served().swap?.join() === String(newest)
          ? true
          : undefined,
      DUO_GRACE_MS + 3_000,
    );
    // A retired revision's subscription drains asynchronously: the server hears of it a moment later.
    await waitFor(
      'the superseded revision to have no subscriber',
      () => hasNoResponders(nats.nc, target(superseded)).then((gone) => gone || undefined),
      3_000,
    );
  });

  it('uses short test timings', () => {
    expect(GRACE_MS).toBeLessThan(DUO_GRACE_MS);
  });
});
