import { describe, expect, it } from 'vitest';
import { BUS_ACCESS_CONFIG, BUS_ACCESS_ENV } from '../../../test/fixtures/bus-access.js';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_POOL,
  DEFAULT_ROLLOUT_GRACE_MS,
  defaultEvaluatorId,
  loadEvaluatorConfig,
} from './config.js';
import { EvaluatorErrorCode } from './errors.js';

const host = { hostname: 'evaluator-7f9c.cluster.local', pid: 1 };

describe('loadEvaluatorConfig', () => {
  it('applies the defaults and freezes the result', () => {
    const config = loadEvaluatorConfig(BUS_ACCESS_ENV, host);
    expect(config).toMatchObject({
      natsUrl: 'nats://127.0.0.1:4222',
      pool: DEFAULT_POOL,
      heartbeatMs: DEFAULT_HEARTBEAT_MS,
      rolloutGraceMs: DEFAULT_ROLLOUT_GRACE_MS,
      memoryLimitMiB: 256,
      jetstreamReplicas: 1,
      logLevel: 'info',
    });
    expect(config.workers).toBeGreaterThan(0);
    expect(config.evaluatorId).toMatch(/^evaluator-7f9c-cluster-local-1-[0-9a-f]{6}$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable', () => {
    const config = loadEvaluatorConfig(
      {
        ...BUS_ACCESS_ENV,
        CASTELLAN_NATS_URL: 'nats://nats:4222',
        CASTELLAN_POOL: 'tenant-a',
        CASTELLAN_EVALUATOR_ID: 'eval-0',
        CASTELLAN_WORKERS: '3',
        CASTELLAN_HEARTBEAT_MS: '500',
        CASTELLAN_ROLLOUT_GRACE_MS: '1000',
        CASTELLAN_MEMORY_LIMIT_MIB: '64',
        CASTELLAN_JETSTREAM_REPLICAS: '3',
        CASTELLAN_LOG_LEVEL: 'debug',
      },
      host,
    );
    expect(config).toEqual({
      natsUrl: 'nats://nats:4222',
      ...BUS_ACCESS_CONFIG,
      pool: 'tenant-a',
      evaluatorId: 'eval-0',
      workers: 3,
      heartbeatMs: 500,
      rolloutGraceMs: 1000,
      memoryLimitMiB: 64,
      jetstreamReplicas: 3,
      logLevel: 'debug',
    });
  });

  it('reports every problem together', () => {
    const load = () =>
      loadEvaluatorConfig(
        {
          CASTELLAN_POOL: 'a.b',
          CASTELLAN_EVALUATOR_ID: 'x y',
          CASTELLAN_WORKERS: '0',
          CASTELLAN_HEARTBEAT_MS: 'soon',
          CASTELLAN_ROLLOUT_GRACE_MS: '-1',
          CASTELLAN_MEMORY_LIMIT_MIB: '1.5',
          CASTELLAN_LOG_LEVEL: 'loud',
        },
        host,
      );
    expect(load).toThrow(expect.objectContaining({ code: EvaluatorErrorCode.ConfigInvalid }) as Error);
    let message = '';
    try {
      load();
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of [
      'CASTELLAN_POOL',
      'CASTELLAN_EVALUATOR_ID',
      'CASTELLAN_WORKERS',
      'CASTELLAN_HEARTBEAT_MS',
      'CASTELLAN_ROLLOUT_GRACE_MS',
      'CASTELLAN_MEMORY_LIMIT_MIB',
      'CASTELLAN_LOG_LEVEL',
    ]) {
      expect(message).toContain(name);
    }
  });
});

describe('defaultEvaluatorId', () => {
  it('is a NATS token, different on every call', () => {
    const a = defaultEvaluatorId({ hostname: 'node.with.dots', pid: 42 });
    const b = defaultEvaluatorId({ hostname: 'node.with.dots', pid: 42 });
    expect(a).toMatch(/^node-with-dots-42-[0-9a-f]{6}$/);
    expect(a).not.toBe(b);
  });
});
