import { OciError, OciErrorCode } from './errors.js';

/** A parsed, normalised OCI reference: `registry/repository[:tag][@digest]`. */
export interface OciReference {
  /** `host[:port]`; Docker Hub is `registry-1.docker.io`. */
  registry: string;
  repository: string;
  /** `latest` when neither a tag nor a digest was given. */
  tag?: string;
  /** `sha256:<64 hex>`; when present it decides what is pulled. */
  digest?: string;
}

export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', DOCKER_HUB_REGISTRY]);
const DEFAULT_TAG = 'latest';
const MAX_NAME_LENGTH = 255;
const MAX_PORT = 65_535;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST_LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const HOST = new RegExp(`^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);

/**
 * Parses a Docker/OCI reference as `docker pull` does: a first path component is a registry
 * host iff it contains `.` or `:` or is `localhost`; otherwise the reference is on Docker Hub,
 * where single-component names live under `library/`.
 */
export function parseOciReference(text: string): OciReference {
  const invalid = (why: string) =>
    new OciError(OciErrorCode.InvalidReference, `invalid OCI reference "${text}": ${why}`);

  const at = text.indexOf('@');
  const digest = at === -1 ? undefined : text.slice(at + 1);
  const nameAndTag = at === -1 ? text : text.slice(0, at);
  if (digest !== undefined && !DIGEST.test(digest)) {
    throw invalid(`digest must be sha256:<64 lowercase hex digits> (got "${digest}")`);
  }

  const lastColon = nameAndTag.lastIndexOf(':');
  const hasTag = lastColon > nameAndTag.lastIndexOf('/');
  const name = hasTag ? nameAndTag.slice(0, lastColon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(lastColon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) {
    throw invalid(`tag must be 1-128 of [A-Za-z0-9_.-], not starting with . or - (got "${tag}")`);
  }

  const components = name.split('/');
  const first = components[0] ?? '';
  const hasHost =
    components.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasHost && !HOST.test(first)) throw invalid(`"${first}" is not a valid registry host[:port]`);
  const port = hasHost ? /:(\d+)$/.exec(first)?.[1] : undefined;
  if (port !== undefined && (Number(port) < 1 || Number(port) > MAX_PORT)) {
    throw invalid(`port ${port} is not between 1 and ${MAX_PORT}`);
  }
  const pathComponents = hasHost ? components.slice(1) : components;
  const bad = pathComponents.find((component) => !PATH_COMPONENT.test(component));
  if (bad !== undefined) {
    throw invalid(
      bad === ''
        ? 'the repository name is empty or has an empty path component'
        : `repository path component "${bad}" must be lowercase letters and digits, separated by ., _, __ or -`,
    );
  }
  if (name.length > MAX_NAME_LENGTH) throw invalid(`the name is longer than ${MAX_NAME_LENGTH} characters`);

  const host = hasHost ? first : 'docker.io';
  const onDockerHub = DOCKER_HUB_ALIASES.has(host);
  const repository =
    onDockerHub && pathComponents.length === 1 ? `library/${pathComponents[0]}` : pathComponents.join('/');
  return {
    registry: onDockerHub ? DOCKER_HUB_REGISTRY : host,
    repository,
    ...(tag !== undefined ? { tag } : digest === undefined ? { tag: DEFAULT_TAG } : {}),
    ...(digest !== undefined && { digest }),
  };
}

/** The canonical string form: `host/repo:tag`, `host/repo@digest` or `host/repo:tag@digest`. */
export function formatOciReference(reference: OciReference): string {
  const tag = reference.tag === undefined ? '' : `:${reference.tag}`;
  const digest = reference.digest === undefined ? '' : `@${reference.digest}`;
  return `${reference.registry}/${reference.repository}${tag}${digest}`;
}

/** True for a reference that follows the moving `latest` tag (Kubewarden always re-pulls those). */
export function isLatestTag(reference: OciReference): boolean {
  return reference.digest === undefined && reference.tag === DEFAULT_TAG;
}
