import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { messageOf } from '@castellan/proto';
import { OciError, OciErrorCode } from './errors.js';

/**
 * A sources.yml (docs/kubewarden-compatibility.md#sources-file) in serialisable form: plain JSON, because it
 * travels inside fetch requests. Host keys are `host[:port]`, lower case.
 */
export interface SourcesConfig {
  /** Hosts that may fall back to unverified HTTPS, then plain HTTP. */
  insecureSources: string[];
  /** Host → PEM certificates trusted for it in addition to the system roots. */
  sourceAuthorities: Record<string, string[]>;
}

/** No insecure hosts, no extra authorities: every host is HTTPS with the system roots. */
export const DEFAULT_SOURCES: SourcesConfig = Object.freeze({
  insecureSources: [],
  sourceAuthorities: {},
});

/** `proxies` is accepted for compatibility but ignored: policy-server overwrites it from the environment. */
const KNOWN_KEYS = new Set(['insecure_sources', 'source_authorities', 'proxies']);
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads a sources.yml (YAML or JSON) and the certificate files it names; reports every problem at once. */
export async function loadSources(path: string): Promise<SourcesConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new OciError(OciErrorCode.SourcesInvalid, `cannot read sources file ${path}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  return parseSources(text, { origin: path, readCertificateFile: (file) => readFile(file) });
}

/** Parses sources.yml text; `readCertificateFile` loads `{type: Path}` authorities. */
export async function parseSources(
  text: string,
  options: { origin: string; readCertificateFile: (path: string) => Promise<Uint8Array> },
): Promise<SourcesConfig> {
  const problems: string[] = [];
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    problems.push(`not valid YAML or JSON: ${messageOf(error)}`);
  }
  const root = document ?? {};
  const config: SourcesConfig = { insecureSources: [], sourceAuthorities: {} };
  if (problems.length === 0 && !isMapping(root)) problems.push('the document must be a mapping');
  if (problems.length === 0 && isMapping(root)) {
    for (const key of Object.keys(root)) {
      if (!KNOWN_KEYS.has(key))
        problems.push(`unknown key "${key}" (expected insecure_sources, source_authorities)`);
    }
    config.insecureSources = readInsecureSources(root.insecure_sources, problems);
    config.sourceAuthorities = await readSourceAuthorities(root.source_authorities, problems, options);
  }
  if (problems.length > 0) {
    throw new OciError(
      OciErrorCode.SourcesInvalid,
      `sources file ${options.origin} is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
  }
  return config;
}

function readInsecureSources(value: unknown, problems: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push('insecure_sources must be a list of host[:port] strings');
    return [];
  }
  const hosts: string[] = [];
  value.forEach((entry, index) => {
    const problem = hostProblem(entry);
    if (problem) problems.push(`insecure_sources[${index}]: ${problem}`);
    else hosts.push((entry as string).toLowerCase());
  });
  return hosts;
}

async function readSourceAuthorities(
  value: unknown,
  problems: string[],
  options: { readCertificateFile: (path: string) => Promise<Uint8Array> },
): Promise<Record<string, string[]>> {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) {
    problems.push('source_authorities must be a mapping of host[:port] to a list of certificates');
    return {};
  }
  const authorities: Record<string, string[]> = {};
  for (const [host, entries] of Object.entries(value)) {
    const where = `source_authorities["${host}"]`;
    const problem = hostProblem(host);
    if (problem) problems.push(`${where}: ${problem}`);
    if (!Array.isArray(entries)) {
      problems.push(`${where} must be a list of {type: Path, path} or {type: Data, data} entries`);
      continue;
    }
    const certificates: string[] = [];
    for (const [index, entry] of entries.entries()) {
      const pems = await readAuthority(entry, `${where}[${index}]`, problems, options);
      certificates.push(...pems);
    }
    authorities[host.toLowerCase()] = certificates;
  }
  return authorities;
}

async function readAuthority(
  entry: unknown,
  where: string,
  problems: string[],
  options: { readCertificateFile: (path: string) => Promise<Uint8Array> },
): Promise<string[]> {
  if (isMapping(entry) && entry.type === 'Path' && typeof entry.path === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = await options.readCertificateFile(entry.path);
    } catch (error) {
      problems.push(`${where}: cannot read ${entry.path}: ${messageOf(error)}`);
      return [];
    }
    return certificatesOrProblem(bytes, `${where} (${entry.path})`, problems);
  }
  if (isMapping(entry) && entry.type === 'Data' && typeof entry.data === 'string') {
    return certificatesOrProblem(Buffer.from(entry.data, 'utf8'), where, problems);
  }
  problems.push(`${where} must be {type: Path, path: <file>} or {type: Data, data: <PEM or DER>}`);
  return [];
}

function certificatesOrProblem(bytes: Uint8Array, where: string, problems: string[]): string[] {
  try {
    return toPemCertificates(bytes);
  } catch (error) {
    problems.push(`${where}: ${messageOf(error)}`);
    return [];
  }
}

/** PEM (one or more certificates) or DER bytes → validated PEM certificates. */
function toPemCertificates(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes).toString('latin1');
  const blocks = text.match(PEM_CERTIFICATE);
  try {
    if (blocks) return blocks.map((block) => new X509Certificate(block).toString());
    return [new X509Certificate(bytes).toString()];
  } catch (error) {
    throw new Error(`not a PEM or DER certificate (${messageOf(error)})`, { cause: error });
  }
}

function hostProblem(host: unknown): string | undefined {
  if (typeof host !== 'string' || host === '') return 'must be a non-empty host[:port] string';
  if (host.includes('/')) return `"${host}" must be host[:port], without a scheme or path`;
  return undefined;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
