import { describe, expect, it } from 'vitest';
import { BUS_ACCESS_CONFIG, BUS_ACCESS_ENV } from '../../../test/fixtures/bus-access.js';
import { DEFAULT_MAX_MODULE_BYTES, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults everything for a local run', () => {
    expect(loadConfig(BUS_ACCESS_ENV)).toEqual({
      natsUrl: 'nats://127.0.0.1:4222',
      ...BUS_ACCESS_CONFIG,
      sourcesPath: undefined,
      dockerConfigDir: undefined,
      maxModuleBytes: DEFAULT_MAX_MODULE_BYTES,
      jetstreamReplicas: 1,
      logLevel: 'info',
      fileRoots: [],
      allowedNetworks: [],
    });
  });

  it('reads CASTELLAN_* variables, with DOCKER_CONFIG as the credentials fallback', () => {
    const config = loadConfig({
      ...BUS_ACCESS_ENV,
      CASTELLAN_NATS_URL: 'nats://10.0.0.1:4222',
      CASTELLAN_SOURCES_PATH: '/etc/castellan/sources.yml',
      DOCKER_CONFIG: '/root/.docker',
      CASTELLAN_MAX_MODULE_BYTES: '1048576',
      CASTELLAN_JETSTREAM_REPLICAS: '3',
      CASTELLAN_LOG_LEVEL: 'debug',
      CASTELLAN_FETCHER_FILE_ROOTS: '/srv/policies, /opt/modules',
      CASTELLAN_FETCHER_ALLOWED_NETWORKS: '10.96.0.0/12,fd00::/8, 127.0.0.1',
    });
    expect(config).toMatchObject({
      dockerConfigDir: '/root/.docker',
      maxModuleBytes: 1048576,
      jetstreamReplicas: 3,
      fileRoots: ['/srv/policies', '/opt/modules'],
      allowedNetworks: ['10.96.0.0/12', 'fd00::/8', '127.0.0.1'],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every problem at once', () => {
    expect(() =>
      loadConfig({
        CASTELLAN_MAX_MODULE_BYTES: '-1',
        CASTELLAN_JETSTREAM_REPLICAS: 'three',
        CASTELLAN_LOG_LEVEL: 'loud',
        CASTELLAN_FETCHER_FILE_ROOTS: 'policies',
        CASTELLAN_FETCHER_ALLOWED_NETWORKS: 'localhost,10.0.0.0/33',
      }),
    ).toThrow(
      /REPLICAS must be a positive integer \(got "three"\)[\s\S]*LOG_LEVEL must be one of[\s\S]*MAX_MODULE_BYTES must be a positive integer \(got "-1"\)[\s\S]*FILE_ROOTS: "policies" is not an absolute directory[\s\S]*ALLOWED_NETWORKS: "localhost" is not an IP address or CIDR network[\s\S]*ALLOWED_NETWORKS: "10.0.0.0\/33" has an invalid prefix length/,
    );
  });
});
