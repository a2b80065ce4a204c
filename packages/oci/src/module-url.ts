import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OciError, OciErrorCode } from './errors.js';
import { formatOciReference, parseOciReference } from './oci-reference.js';
import type { OciReference } from './oci-reference.js';

/** Where a policy module comes from (docs/kubewarden-compatibility.md#module-urls). */
export type ModuleUrl =
  | { scheme: 'registry'; reference: OciReference }
  | { scheme: 'https' | 'http'; url: URL }
  | { scheme: 'file'; path: string };

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/**
 * Parses a module URL. A string without `scheme://` is an OCI reference, as policy-server
 * reads it (`ghcr.io/org/p:v1`, `localhost:5000/p`).
 */
export function parseModuleUrl(text: string): ModuleUrl {
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case undefined:
      return { scheme: 'registry', reference: parseOciReference(text) };
    case 'registry':
      return { scheme: 'registry', reference: parseOciReference(text.slice('registry://'.length)) };
    case 'https':
    case 'http':
      return { scheme, url: parseHttpUrl(text) };
    case 'file':
      return { scheme: 'file', path: parseFileUrl(text) };
    default:
      throw new OciError(
        OciErrorCode.InvalidReference,
        `unsupported module URL scheme "${scheme}://" in "${text}": use registry://, https://, http:// or file:///`,
      );
  }
}

/** The canonical string of a module URL; equal modules give equal strings. */
export function formatModuleUrl(url: ModuleUrl): string {
  switch (url.scheme) {
    case 'registry':
      return `registry://${formatOciReference(url.reference)}`;
    case 'https':
    case 'http':
      return url.url.href;
    case 'file':
      return pathToFileURL(url.path).href;
  }
}

function parseHttpUrl(text: string): URL {
  try {
    const url = new URL(text);
    if (url.host === '') throw new Error('no host');
    return url;
  } catch (error) {
    throw new OciError(OciErrorCode.InvalidReference, `invalid module URL "${text}": it has no valid host`, {
      cause: error,
    });
  }
}

function parseFileUrl(text: string): string {
  let path: string;
  try {
    path = fileURLToPath(text);
  } catch (error) {
    throw new OciError(
      OciErrorCode.InvalidReference,
      `invalid file URL "${text}": write it as file:///absolute/path`,
      { cause: error },
    );
  }
  if (!isAbsolute(path)) {
    throw new OciError(
      OciErrorCode.InvalidReference,
      `invalid file URL "${text}": the path must be absolute`,
    );
  }
  return path;
}
