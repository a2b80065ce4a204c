/**
 * Container image references, read as the kubelet's runtime reads them (the grammar of
 * github.com/distribution/reference, `ParseNormalizedNamed`): `[host[:port]/]path[:tag][@digest]`.
 *
 * A name whose first component is not a registry host (no `.` or `:`, not `localhost`, no capital
 * letter) is on Docker Hub: `castellan` is `docker.io/library/castellan`, `acme/castellan` is
 * `docker.io/acme/castellan`. The host is compared in lower case (host names are), and
 * `index.docker.io` is `docker.io`, as Docker has it.
 */
import { ReconcilerError, ReconcilerErrorCode } from './errors.js';

export interface ImageReference {
  /** The registry host, with its port when it has one. */
  domain: string;
  /** The repository within the registry. */
  path: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIAS = 'index.docker.io';
const DOCKER_HUB_OFFICIAL = 'library';
/** distribution/reference's `NameTotalLengthMax`. */
const MAX_NAME_LENGTH = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** Reads an image reference; throws `CASTELLAN_RECONCILER_IMAGE_REFERENCE_INVALID` saying what is wrong. */
export function parseImageReference(reference: string): ImageReference {
  const invalid = (why: string) =>
    new ReconcilerError(
      ReconcilerErrorCode.ImageReferenceInvalid,
      `"${reference}" is not an image reference: ${why}`,
    );
  let name = reference;
  let digest: string | undefined;
  let tag: string | undefined;
  const at = name.indexOf('@');
  if (at !== -1) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(`the digest "${digest}" is not <algorithm>:<hex>`);
  }
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(`the tag "${tag}" is not 1 to 128 letters, digits, "_", "." or "-"`);
  }
  if (name.length === 0) throw invalid('it names no repository');
  if (name.length > MAX_NAME_LENGTH) throw invalid(`its name is longer than ${MAX_NAME_LENGTH} characters`);

  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const hasDomain =
    slash !== -1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  let domain = hasDomain ? first.toLowerCase() : DOCKER_HUB;
  let path = hasDomain ? name.slice(slash + 1) : name;
  if (!DOMAIN.test(domain)) throw invalid(`"${first}" is not a registry host[:port]`);
  const bad = path.split('/').find((component) => !PATH_COMPONENT.test(component));
  if (bad !== undefined) {
    throw invalid(
      `the path component "${bad}" is not lower-case letters and digits joined by ".", "_", "__" or "-"`,
    );
  }
  if (domain === DOCKER_HUB_ALIAS) domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !path.includes('/')) path = `${DOCKER_HUB_OFFICIAL}/${path}`;
  return {
    domain,
    path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** The repository of a reference, host included: what an allow-list names. */
export function repositoryOf(reference: ImageReference): string {
  return `${reference.domain}/${reference.path}`;
}

/** Reads a repository (a reference without tag or digest) and returns it normalised. */
export function parseRepository(repository: string): string {
  const reference = parseImageReference(repository);
  if (reference.tag !== undefined || reference.digest !== undefined) {
    throw new ReconcilerError(
      ReconcilerErrorCode.ImageReferenceInvalid,
      `"${repository}" is not a repository: drop its ${reference.digest !== undefined ? 'digest' : 'tag'}`,
    );
  }
  return repositoryOf(reference);
}
