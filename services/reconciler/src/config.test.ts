import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReconcilerConfig } from './config.js';
import { ReconcilerErrorCode } from './errors.js';

const ALLOWED = 'CASTELLAN_RECONCILER_ALLOWED_IMAGE_REPOSITORIES';

describe('loadReconcilerConfig: the image allow-list', () => {
  let dir: string;
  /** What every service needs besides: the NATS credentials and CA (only read at connect time). */
  let bus: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'castellan-reconciler-config-'));
    bus = { CASTELLAN_NATS_CREDS: join(dir, 'control.creds'), CASTELLAN_NATS_CA: join(dir, 'ca.pem') };
    await Promise.all(Object.values(bus).map((path) => writeFile(path, '')));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = (env: Record<string, string>) => loadReconcilerConfig({ ...bus, ...env });

  it('defaults to the repository of CASTELLAN_EVALUATOR_IMAGE', () => {
    const config = load({ CASTELLAN_EVALUATOR_IMAGE: 'ghcr.io/castellan-dev/castellan:0.1.0' });
    expect(config.allowedImageRepositories).toEqual(['ghcr.io/castellan-dev/castellan']);
  });

  it('allows nothing when neither variable is set', () => {
    expect(load({}).allowedImageRepositories).toEqual([]);
  });

  it('reads a comma-separated list, normalised', () => {
    const config = load({
      CASTELLAN_EVALUATOR_IMAGE: `registry.local:5000/castellan@sha256:${'0'.repeat(64)}`,
      [ALLOWED]: ' registry.local:5000/castellan , nginx,,Mirror.Example.com/team/castellan ',
    });
    expect(config.allowedImageRepositories).toEqual([
      'registry.local:5000/castellan',
      'docker.io/library/nginx',
      'mirror.example.com/team/castellan',
    ]);
  });

  it('reports every bad entry, a list without the evaluator image, and a bad evaluator image, together', () => {
    const problems = (env: Record<string, string>): string => {
      try {
        load(env);
      } catch (error) {
        expect(error).toMatchObject({ code: ReconcilerErrorCode.ConfigInvalid });
        return (error as Error).message;
      }
      throw new Error('the configuration was accepted');
    };
    const message = problems({
      CASTELLAN_EVALUATOR_IMAGE: 'ghcr.io/castellan-dev/castellan:0.1.0',
      [ALLOWED]: 'ghcr.io/castellan-dev/castellan-mirror:v1,ghcr.io/Upper/case,docker.io/library/nginx',
    });
    expect(message).toContain(
      `${ALLOWED}: "ghcr.io/castellan-dev/castellan-mirror:v1" is not a repository: drop its tag`,
    );
    expect(message).toContain(`${ALLOWED}: "ghcr.io/Upper/case" is not an image reference`);
    expect(message).toContain(
      `${ALLOWED} must include ghcr.io/castellan-dev/castellan, the repository of CASTELLAN_EVALUATOR_IMAGE`,
    );
    expect(problems({ [ALLOWED]: ' , ' })).toContain(`${ALLOWED} is set but names no repository`);
    expect(problems({ CASTELLAN_EVALUATOR_IMAGE: 'https://ghcr.io/castellan' })).toContain(
      'CASTELLAN_EVALUATOR_IMAGE: "https://ghcr.io/castellan" is not an image reference',
    );
  });
});
