import { describe, expect, it } from 'vitest';
import { BUS_ACCESS_CONFIG, BUS_ACCESS_ENV } from '../../../test/fixtures/bus-access.js';
import { EnvReader } from './env-reader.js';

describe('EnvReader', () => {
  it('defaults the service config for a local run, but not its NATS credentials and CA', () => {
    const reader = new EnvReader(BUS_ACCESS_ENV);
    expect(reader.serviceConfig()).toEqual({
      natsUrl: 'nats://127.0.0.1:4222',
      jetstreamReplicas: 1,
      logLevel: 'info',
      ...BUS_ACCESS_CONFIG,
    });
    expect(reader.problems).toEqual([]);
  });

  it('accepts a list of NATS servers and reads trimmed values', () => {
    const reader = new EnvReader({
      ...BUS_ACCESS_ENV,
      CASTELLAN_NATS_URL: ' nats://a:4222, nats://b:4222 ',
      X: '  7 ',
    });
    expect(reader.serviceConfig().natsUrl).toBe('nats://a:4222, nats://b:4222');
    expect(reader.positiveInteger('X', 1)).toBe(7);
    expect(reader.problems).toEqual([]);
  });

  it('collects every problem and reports them in one error', () => {
    const reader = new EnvReader({
      CASTELLAN_NATS_URL: 'http://wrong/path',
      CASTELLAN_LOG_LEVEL: 'loud',
      N: '1.5',
      P: '70000',
    });
    reader.serviceConfig();
    expect(reader.positiveInteger('N', 3)).toBe(3);
    expect(reader.port('P', 80)).toBe(80);
    reader.required('R', 'the path of a PEM file');
    expect(() => reader.check('test', (message) => new Error(message))).toThrow(
      [
        'invalid test configuration:',
        '  - CASTELLAN_NATS_URL must list NATS servers like nats://host:4222 (got "http://wrong/path")',
        '  - CASTELLAN_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
        "  - CASTELLAN_NATS_CREDS is required: this service's NATS credentials (a .creds file)",
        "  - CASTELLAN_NATS_CA is required: the CA of the NATS servers' certificates (PEM)",
        '  - N must be a positive integer (got "1.5")',
        '  - P must be a port number between 0 and 65535 (got "70000")',
        '  - R is required: the path of a PEM file',
      ].join('\n'),
    );
  });

  it('names a credentials or CA file it cannot read, and why', () => {
    const reader = new EnvReader({ ...BUS_ACCESS_ENV, CASTELLAN_NATS_CREDS: '/nonexistent/gateway.creds' });
    reader.serviceConfig();
    expect(reader.problems).toEqual([
      "CASTELLAN_NATS_CREDS: cannot read /nonexistent/gateway.creds (ENOENT): this service's NATS credentials (a .creds file)",
    ]);
  });

  it('refuses a credentials file or a CA that is not one, naming it', () => {
    const reader = new EnvReader({
      CASTELLAN_NATS_CREDS: BUS_ACCESS_ENV.CASTELLAN_NATS_CA,
      CASTELLAN_NATS_CA: BUS_ACCESS_ENV.CASTELLAN_NATS_CREDS,
    });
    reader.serviceConfig();
    expect(reader.problems).toEqual([
      `CASTELLAN_NATS_CREDS: ${BUS_ACCESS_ENV.CASTELLAN_NATS_CA} holds no NATS USER JWT: this service's NATS credentials (a .creds file)`,
      `CASTELLAN_NATS_CA: ${BUS_ACCESS_ENV.CASTELLAN_NATS_CREDS} holds no CERTIFICATE: the CA of the NATS servers' certificates (PEM)`,
    ]);
  });

  it('reads booleans in the usual spellings and refuses others', () => {
    const reader = new EnvReader({ A: 'TRUE', B: '0', C: 'yes', D: 'maybe' });
    expect([reader.boolean('A', false), reader.boolean('B', true), reader.boolean('C', false)]).toEqual([
      true,
      false,
      true,
    ]);
    expect(reader.boolean('UNSET', true)).toBe(true);
    expect(reader.boolean('D', false)).toBe(false);
    expect(reader.problems).toEqual(['D must be true or false (got "maybe")']);
  });
});
