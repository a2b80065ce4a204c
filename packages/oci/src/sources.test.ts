import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciErrorCode } from './errors.js';
import { loadSources, parseSources } from './sources.js';

/** A self-signed certificate, only ever parsed. */
const CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBmjCCAT+gAwIBAgIUNyE8fXIfGnkS/+mIaZTlkXktWL4wCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWQ2FzdGVsbGFuIHNvdXJjZXMgdGVzdDAgFw0yNjExMjMxODAx
MDFaGA8yMTI2MTAzMDE4MDEwMVowITEfMB0GA1UEAwwWQ2FzdGVsbGFuIHNvdXJj
ZXMgdGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAUfOXSqbRKV4QEGK3Ls
tJDwy7qLdLqY86EYd4E1vRWWLOHjZjBVz84VwrDsEIhP+6O58U+sjvi/GwalMkcK
7/mjUzBRMB0GA1UdDgQWBBSrOX5eBTXfgPmRAvneyDstHgdb6DAfBgNVHSMEGDAW
gBSrOX5eBTXfgPmRAvneyDstHgdb6DAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49
BAMCA0kAMEYCIQDegI2N8/vtxDNauOE8bo6OSsptQYJGwmRmnqyP4EdS7QIhAILK
dKXSo2t3IE8q+CNZtizh2TeE6VFS+Wq8/YGtuFnv
-----END CERTIFICATE-----
`;
const DER = Buffer.from(CERTIFICATE.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'castellan-sources-'));
  await writeFile(join(dir, 'ca.pem'), CERTIFICATE);
  await writeFile(join(dir, 'ca.der'), DER);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const write = async (name: string, text: string) => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};

describe('loadSources', () => {
  it('reads insecure sources and PEM/DER authorities from files and inline data', async () => {
    const path = await write(
      'sources.yml',
      [
        'insecure_sources: ["registry.dev.lan", "Registry2.dev.lan:5001"]',
        'source_authorities:',
        '  "registry.pre.lan:5001":',
        `    - {type: Path, path: ${join(dir, 'ca.pem')}}`,
        `    - {type: Path, path: ${join(dir, 'ca.der')}}`,
        '    - type: Data',
        '      data: |',
        ...CERTIFICATE.trim()
          .split('\n')
          .map((line) => `        ${line}`),
      ].join('\n'),
    );
    const sources = await loadSources(path);
    expect(sources.insecureSources).toEqual(['registry.dev.lan', 'registry2.dev.lan:5001']);
    expect(sources.sourceAuthorities['registry.pre.lan:5001']).toEqual([
      CERTIFICATE,
      CERTIFICATE,
      CERTIFICATE,
    ]);
    expect(JSON.parse(JSON.stringify(sources))).toEqual(sources);
  });

  it('reads JSON and an empty file', async () => {
    expect(await loadSources(await write('s.json', '{"insecure_sources": ["a.lan"]}'))).toEqual({
      insecureSources: ['a.lan'],
      sourceAuthorities: {},
    });
    expect(await loadSources(await write('empty.yml', ''))).toEqual({
      insecureSources: [],
      sourceAuthorities: {},
    });
  });

  it('reports every problem at once', async () => {
    const path = await write(
      'bad.yml',
      [
        'insecure_source: [a]',
        'insecure_sources: ["https://registry.lan", 5]',
        'source_authorities:',
        '  "ok.lan":',
        '    - {type: Path, path: /nonexistent/ca.pem}',
        '    - {type: Data, data: "not a certificate"}',
        '    - {type: Url, url: "https://x"}',
        '  "other.lan": {type: Data}',
      ].join('\n'),
    );
    const error = await loadSources(path).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: OciErrorCode.SourcesInvalid });
    const message = (error as Error).message;
    for (const expected of [
      'unknown key "insecure_source"',
      'insecure_sources[0]: "https://registry.lan" must be host[:port]',
      'insecure_sources[1]: must be a non-empty host[:port] string',
      'source_authorities["ok.lan"][0]: cannot read /nonexistent/ca.pem',
      'source_authorities["ok.lan"][1]: not a PEM or DER certificate',
      'source_authorities["ok.lan"][2] must be {type: Path',
      'source_authorities["other.lan"] must be a list',
    ]) {
      expect(message).toContain(expected);
    }
  });

  it('names an unreadable file and invalid YAML', async () => {
    await expect(loadSources(join(dir, 'missing.yml'))).rejects.toMatchObject({
      code: OciErrorCode.SourcesInvalid,
      message: expect.stringContaining('cannot read sources file') as string,
    });
    await expect(
      parseSources('insecure_sources: [a', {
        origin: 'inline',
        readCertificateFile: () => Promise.reject(new Error()),
      }),
    ).rejects.toThrow('not valid YAML or JSON');
  });
});
