import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_MODULE_BYTES, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults everything for a local run', () => {
    expect(loadConfig({})).toEqual({
      natsUrl: 'nats://127.0.0.1:4222',
      sourcesPath: undefined,
      dockerConfigDir: undefined,
      maxModuleBytes: DEFAULT_MAX_MODULE_BYTES,
      jetstreamReplicas: 1,
      logLevel: 'info',
    });
  });

  it('reads CASTELLAN_* variables, with DOCKER_CONFIG as the credentials fallback', () => {
    const config = loadConfig({
      CASTELLAN_NATS_URL: 'nats://10.0.0.1:4222',
      CASTELLAN_SOURCES_PATH: '/etc/castellan/sources.yml',
      DOCKER_CONFIG: '/root/.docker',
      CASTELLAN_MAX_MODULE_BYTES: '1048576',
      CASTELLAN_JETSTREAM_REPLICAS: '3',
      CASTELLAN_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      dockerConfigDir: '/root/.docker',
      maxModuleBytes: 1048576,
      jetstreamReplicas: 3,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every problem at once', () => {
    expect(() =>
      loadConfig({
        CASTELLAN_MAX_MODULE_BYTES: '-1',
        CASTELLAN_JETSTREAM_REPLICAS: 'three',
        CASTELLAN_LOG_LEVEL: 'loud',
      }),
    ).toThrow(
      /REPLICAS must be a positive integer \(got "three"\)[\s\S]*LOG_LEVEL must be one of[\s\S]*MAX_MODULE_BYTES must be a positive integer \(got "-1"\)/,
    );
  });
});
