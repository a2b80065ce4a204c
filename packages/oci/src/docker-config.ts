import { OciError, OciErrorCode } from './errors.js';

/** What a Docker `config.json` says about one registry. */
export type DockerConfigEntry =
  { kind: 'password'; username: string; password: string } | { kind: 'identity-token' };

/** The parts of a Docker `config.json` that locate credentials, keyed by normalised host. */
export interface DockerConfig {
  auths: Map<string, DockerConfigEntry>;
  credHelpers: Map<string, string>;
  credsStore?: string;
}

/** The key Docker (and Kubewarden) use for Docker Hub in `auths` and in credential helpers. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Parses `config.json`; `origin` (its path) is named in errors. */
export function parseDockerConfig(text: string, origin: string): DockerConfig {
  const invalid = (why: string) =>
    new OciError(OciErrorCode.DockerConfigInvalid, `Docker config ${origin} is invalid: ${why}`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw invalid(`not JSON (${(error as Error).message})`);
  }
  if (!isObject(document)) throw invalid('the document must be a JSON object');

  const auths = new Map<string, DockerConfigEntry>();
  for (const [server, value] of Object.entries(objectField(document, 'auths', invalid))) {
    if (!isObject(value)) throw invalid(`auths["${server}"] must be an object`);
    const entry = authEntry(value, (why) => invalid(`auths["${server}"]: ${why}`));
    if (entry) auths.set(normaliseServer(server), entry);
  }
  const credHelpers = new Map<string, string>();
  for (const [server, helper] of Object.entries(objectField(document, 'credHelpers', invalid))) {
    if (typeof helper !== 'string' || helper === '')
      throw invalid(`credHelpers["${server}"] must be a helper name`);
    credHelpers.set(normaliseServer(server), helper);
  }
  const credsStore = document.credsStore;
  if (credsStore !== undefined && typeof credsStore !== 'string')
    throw invalid('credsStore must be a string');
  return { auths, credHelpers, ...(credsStore && { credsStore }) };
}

/**
 * A registry key as Docker compares them: no scheme, no path, lower case, and every Docker Hub
 * alias folded into `docker.io`.
 */
export function normaliseServer(server: string): string {
  const host = server
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
  return DOCKER_HUB_HOSTS.has(host) ? 'docker.io' : host;
}

/** The server URL a credential helper is asked about for a registry host. */
export function helperServerUrl(registry: string): string {
  return normaliseServer(registry) === 'docker.io' ? DOCKER_HUB_SERVER : registry;
}

function authEntry(
  value: Record<string, unknown>,
  invalid: (why: string) => OciError,
): DockerConfigEntry | undefined {
  if (typeof value.identitytoken === 'string' && value.identitytoken !== '')
    return { kind: 'identity-token' };
  if (typeof value.auth === 'string' && value.auth !== '') {
    const decoded = Buffer.from(value.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) throw invalid('auth must be base64 of "username:password"');
    return { kind: 'password', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof value.username === 'string' && typeof value.password === 'string') {
    return { kind: 'password', username: value.username, password: value.password };
  }
  // An empty entry is what `docker login` leaves when a credsStore holds the secret.
  return undefined;
}

function objectField(
  document: Record<string, unknown>,
  name: string,
  invalid: (why: string) => OciError,
): Record<string, unknown> {
  const value = document[name];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalid(`${name} must be an object`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
