import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDockerCredentials } from './credentials.js';
import { normaliseServer, parseDockerConfig } from './docker-config.js';
import { OciErrorCode } from './errors.js';

const base64 = (text: string) => Buffer.from(text).toString('base64');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'castellan-docker-config-'));
  // A credential helper that knows one server and logs what it was asked.
  await writeFile(
    join(dir, 'docker-credential-fake'),
    [
      '#!/bin/sh',
      'read server',
      'case "$server" in',
      '  helper.example.com) echo \'{"ServerURL":"helper.example.com","Username":"robot","Secret":"s3cret"}\' ;;',
      '  token.example.com) echo \'{"ServerURL":"token.example.com","Username":"<token>","Secret":"t"}\' ;;',
      '  https://index.docker.io/v1/) echo \'{"Username":"hub","Secret":"hubpass"}\' ;;',
      '  broken.example.com) echo "keychain locked" >&2; exit 3 ;;',
      '  *) echo "credentials not found in native keychain"; exit 1 ;;',
      'esac',
    ].join('\n'),
  );
  await chmod(join(dir, 'docker-credential-fake'), 0o755);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function credentialsFor(config: unknown, warnings: string[] = []) {
  const configDir = await mkdtemp(join(dir, 'config-'));
  await writeFile(join(configDir, 'config.json'), JSON.stringify(config));
  return loadDockerCredentials(configDir, {
    env: { PATH: `${dir}:/usr/bin:/bin` },
    onWarning: (message) => warnings.push(message),
  });
}

describe('Docker config credentials', () => {
  it('reads auth (base64 user:pass) and username/password entries, matching hosts however they are written', async () => {
    const credentials = await credentialsFor({
      auths: {
        'https://ghcr.io': { auth: base64('alice:pa:ss') },
        'registry.lan:5000': { username: 'bob', password: 'pw' },
        'https://index.docker.io/v1/': { auth: base64('hubuser:hubpw') },
      },
    });
    expect(await credentials.lookup('ghcr.io')).toEqual({ username: 'alice', password: 'pa:ss' });
    expect(await credentials.lookup('registry.lan:5000')).toEqual({ username: 'bob', password: 'pw' });
    expect(await credentials.lookup('registry-1.docker.io')).toEqual({
      username: 'hubuser',
      password: 'hubpw',
    });
    expect(await credentials.lookup('registry.lan')).toBeUndefined();
    expect(credentials.origin).toMatch(/config\.json$/);
  });

  it('uses identity tokens as anonymous, with a warning', async () => {
    const warnings: string[] = [];
    const credentials = await credentialsFor(
      { auths: { 'ghcr.io': { auth: base64('<token>:'), identitytoken: 'x' } } },
      warnings,
    );
    expect(await credentials.lookup('ghcr.io')).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('identity token for ghcr.io')]);
  });

  it('asks credential helpers: credHelpers first, then auths, then credsStore', async () => {
    const warnings: string[] = [];
    const credentials = await credentialsFor(
      {
        auths: { 'file.example.com': { auth: base64('file:pw') } },
        credHelpers: { 'helper.example.com': 'fake' },
        credsStore: 'fake',
      },
      warnings,
    );
    expect(await credentials.lookup('helper.example.com')).toEqual({ username: 'robot', password: 's3cret' });
    expect(await credentials.lookup('file.example.com')).toEqual({ username: 'file', password: 'pw' });
    expect(await credentials.lookup('registry-1.docker.io')).toEqual({
      username: 'hub',
      password: 'hubpass',
    });
    expect(await credentials.lookup('unknown.example.com')).toBeUndefined();
    expect(await credentials.lookup('token.example.com')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    await expect(credentials.lookup('broken.example.com')).rejects.toMatchObject({
      code: OciErrorCode.CredentialHelperFailed,
      message: expect.stringContaining('keychain locked') as string,
    });
  });

  it('fails clearly when a helper is not installed', async () => {
    const credentials = await credentialsFor({ credsStore: 'absent' });
    await expect(credentials.lookup('ghcr.io')).rejects.toThrow('docker-credential-absent is not on PATH');
  });

  it('is anonymous without a config.json, and rejects a malformed one', async () => {
    const anonymous = await loadDockerCredentials(join(dir, 'nowhere'));
    expect(await anonymous.lookup('ghcr.io')).toBeUndefined();
    expect(() => parseDockerConfig('{', 'x/config.json')).toThrow(
      expect.objectContaining({ code: OciErrorCode.DockerConfigInvalid }),
    );
    expect(() => parseDockerConfig('{"auths": {"h": {"auth": "bm9jb2xvbg=="}}}', 'x/config.json')).toThrow(
      'base64 of "username:password"',
    );
  });

  it('finds the directory from DOCKER_CONFIG when none is given', async () => {
    const configDir = await mkdtemp(join(dir, 'env-'));
    await writeFile(
      join(configDir, 'config.json'),
      JSON.stringify({ auths: { 'h.io': { auth: base64('u:p') } } }),
    );
    const credentials = await loadDockerCredentials(undefined, { env: { DOCKER_CONFIG: configDir } });
    expect(await credentials.lookup('h.io')).toEqual({ username: 'u', password: 'p' });
  });
});

describe('normaliseServer', () => {
  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['http://Registry.lan:5000/v2/', 'registry.lan:5000'],
    ['ghcr.io', 'ghcr.io'],
  ])('%s → %s', (server, key) => {
    expect(normaliseServer(server)).toBe(key);
  });
});
