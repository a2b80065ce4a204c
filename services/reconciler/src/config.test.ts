import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBusAuthority, serializeBusAuthority } from '@castellan/bus-auth';
import type { BusAuthority } from '@castellan/bus-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUS_ACCESS_ENV } from '../../../test/fixtures/bus-access.js';
import { loadReconcilerConfig } from './config.js';
import { ReconcilerErrorCode } from './errors.js';

const ALLOWED = 'CASTELLAN_RECONCILER_ALLOWED_IMAGE_REPOSITORIES';
const AUTHORITY = 'CASTELLAN_NATS_AUTHORITY_FILE';

let dir: string;
/** The bus's signing keys, which the reconciler reads at start. */
let authority: BusAuthority;
let bus: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'castellan-reconciler-config-'));
  authority = createBusAuthority();
  bus = { ...BUS_ACCESS_ENV, [AUTHORITY]: join(dir, 'authority.json') };
  await writeFile(join(dir, 'authority.json'), serializeBusAuthority(authority));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const load = (env: Record<string, string>) => loadReconcilerConfig({ ...bus, ...env });

/** The message of the configuration error `env` causes. */
function problems(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    expect(error).toMatchObject({ code: ReconcilerErrorCode.ConfigInvalid });
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('loadReconcilerConfig: the NATS authority', () => {
  it('reads the signing keys from CASTELLAN_NATS_AUTHORITY_FILE', () => {
    expect(load({}).natsAuthority).toStrictEqual(authority);
  });

  it('requires the file, readable, and holding an authority, each said in one line naming it', async () => {
    expect(problems({ [AUTHORITY]: '' })).toContain(
      `${AUTHORITY} is required: the NATS signing keys evaluator credentials are minted with`,
    );
    const absent = join(dir, 'absent.json');
    expect(problems({ [AUTHORITY]: absent })).toContain(`${AUTHORITY}: cannot read ${absent} (ENOENT)`);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, JSON.stringify({ ...authority, accountSeed: 'SOnot-an-account' }));
    const message = problems({ [AUTHORITY]: broken });
    expect(message).toContain(
      `  - ${AUTHORITY}: the NATS signing keys in ${broken} cannot be used: accountSeed must be an nkey seed starting with SA;`,
    );
    expect(message.split('\n').filter((line) => line.includes(AUTHORITY))).toHaveLength(1);
    // The seeds never appear in the message.
    expect(message).not.toContain(authority.operatorSeed);
  });
});

describe('loadReconcilerConfig: the image allow-list', () => {
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

describe('loadReconcilerConfig: the gateway URL', () => {
  const URL_VAR = 'CASTELLAN_GATEWAY_URL';

  it('is unset by default: webhooks point at the gateway Service', () => {
    expect(load({}).gatewayUrl).toBeUndefined();
  });

  it('reads an https URL of a host and port', () => {
    expect(load({ [URL_VAR]: 'https://127.0.0.1:8443' }).gatewayUrl?.href).toBe('https://127.0.0.1:8443/');
  });

  it('refuses plain HTTP, a path, a query or credentials, and text that is no URL, each naming the variable', () => {
    expect(problems({ [URL_VAR]: 'http://127.0.0.1:8443' })).toContain(
      `${URL_VAR}: "http://127.0.0.1:8443" must be https`,
    );
    for (const value of [
      'https://gw.example:8443/hooks',
      'https://gw.example?x=1',
      'https://u:p@gw.example',
    ]) {
      expect(problems({ [URL_VAR]: value })).toContain(
        `${URL_VAR}: "${value}" must be only https://host[:port]`,
      );
    }
    expect(problems({ [URL_VAR]: 'gateway port 8443' })).toContain(
      `${URL_VAR}: "gateway port 8443" is not a URL`,
    );
  });
});
