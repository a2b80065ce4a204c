import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { formatModuleUrl, parseModuleUrl } from '@castellan/oci';
import type { ModuleUrl } from '@castellan/oci';
import { sha256Hex } from '@castellan/proto';
import type { ModuleBytes } from '@castellan/runtime';
import { CliError } from './cli-error.js';

/** Overrides the store's location (tests, shared caches). */
export const STORE_DIR_ENV = 'CASTELLAN_STORE_DIR';

const STORED_SCHEMES = new Set(['registry', 'https', 'http']);
const SHA256_PREFIX = /^(?:sha256:)?([0-9a-f]{1,64})$/;

/** A module held in the store. */
export interface StoredPolicy {
  /** The canonical URL it was pulled from. */
  url: string;
  path: string;
  size: number;
  /** Hex sha256 of the file. */
  sha256: string;
  modified: Date;
}

/** The store's root: `$CASTELLAN_STORE_DIR`, else the user cache dir + `castellan/store`, as kwctl's. */
export function defaultStoreRoot(env: Record<string, string | undefined> = process.env): string {
  const override = env[STORE_DIR_ENV];
  if (override) return override;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'castellan', 'store');
}

/**
 * The local policy store, laid out as kwctl's (docs/kubewarden-compatibility.md#module-urls): `<root>/<scheme>/<host[:port]>/<path…>/<file>`.
 * Registry files keep their tag (`name:v1`, implicit `name:latest`) or, when pinned, their digest
 * (`name@sha256:…`, which decides what was pulled); web files keep their URL path.
 */
export class PolicyStore {
  constructor(readonly root: string = defaultStoreRoot()) {}

  /** Where a module URL is stored. */
  pathOf(url: ModuleUrl): string {
    return join(this.root, ...storeSegments(url));
  }

  /** The stored module of a URL, or undefined when the store does not hold it. */
  async read(url: ModuleUrl): Promise<ModuleBytes | undefined> {
    try {
      const file = await readFile(this.pathOf(url));
      return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.#failure('read', error);
    }
  }

  /** Stores a module atomically (temporary file, then rename), replacing an older copy; returns its path. */
  async save(url: ModuleUrl, bytes: Uint8Array): Promise<string> {
    const path = this.pathOf(url);
    const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.partial`);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temporary, bytes);
      await rename(temporary, path);
      return path;
    } catch (error) {
      await rm(temporary, { force: true });
      throw this.#failure('write to', error);
    }
  }

  /** Every stored module, sorted by URL. */
  async list(): Promise<StoredPolicy[]> {
    let names: string[];
    try {
      names = await readdir(this.root, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.#failure('read', error);
    }
    const policies: StoredPolicy[] = [];
    for (const name of names) {
      const segments = name.split(sep);
      const url = urlOfSegments(segments);
      if (url === undefined) continue;
      const path = join(this.root, name);
      const info = await stat(path);
      if (!info.isFile()) continue;
      const bytes = await readFile(path);
      policies.push({ url, path, size: info.size, sha256: sha256Hex(bytes), modified: info.mtime });
    }
    return policies.sort((a, b) => a.url.localeCompare(b.url));
  }

  /**
   * Removes what `target` names: a module URL (schemeless is `registry://`) or a sha256 prefix of
   * stored modules (every copy of that module). Returns what was removed.
   */
  async remove(target: string): Promise<StoredPolicy[]> {
    const policies = await this.list();
    const removed = this.#select(target, policies);
    for (const policy of removed) {
      await rm(policy.path, { force: true });
      await this.#pruneEmptyDirectories(dirname(policy.path));
    }
    return removed;
  }

  #select(target: string, policies: StoredPolicy[]): StoredPolicy[] {
    const prefix = !target.includes('://') ? SHA256_PREFIX.exec(target)?.[1] : undefined;
    const notFound = () =>
      new CliError(
        prefix === undefined
          ? `the policy store ${this.root} holds no policy ${target}: \`castellan policies\` lists what it holds`
          : `the policy store ${this.root} holds no policy ${target}, nor a module whose sha256 starts with ${prefix}: \`castellan policies\` lists them (a registry manifest digest, as \`push\` prints, is not a module's sha256)`,
      );
    if (prefix !== undefined) {
      const matching = policies.filter((policy) => policy.sha256.startsWith(prefix));
      const urls = matching.map((policy) => policy.url).join(', ');
      const digests = new Set(matching.map((policy) => policy.sha256));
      if (digests.size > 1) {
        throw new CliError(
          `sha256 prefix ${prefix} matches ${digests.size} different policies (${urls}): give more digits`,
        );
      }
      // The same module pulled from several URLs: which one goes is the user's choice.
      if (matching.length > 1) {
        throw new CliError(
          `sha256 prefix ${prefix} matches ${matching.length} stored copies of one module (${urls}): give the URL of the one to remove`,
        );
      }
      if (matching.length === 1) return matching;
    }
    let path: string;
    try {
      path = this.pathOf(parseModuleUrl(target));
    } catch {
      throw notFound();
    }
    const matching = policies.filter((policy) => policy.path === path);
    if (matching.length === 0) throw notFound();
    return matching;
  }

  async #pruneEmptyDirectories(directory: string): Promise<void> {
    for (let current = directory; relative(this.root, current) !== ''; current = dirname(current)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty (or already gone): directories above it are not empty either
      }
    }
  }

  #failure(action: string, error: unknown): CliError {
    return new CliError(
      `cannot ${action} the policy store ${this.root}: ${(error as Error).message} (set ${STORE_DIR_ENV} to a writable directory)`,
    );
  }
}

/** `[scheme, host[:port], …path, file]` of a module URL, relative to the store's root. */
function storeSegments(url: ModuleUrl): string[] {
  switch (url.scheme) {
    case 'registry': {
      const { registry, repository, tag, digest } = url.reference;
      const components = repository.split('/');
      const name = components.pop() ?? repository;
      const file = digest !== undefined ? `${name}@${digest}` : `${name}:${tag ?? 'latest'}`;
      return ['registry', registry, ...components, file];
    }
    case 'https':
    case 'http': {
      // The URL parser has already resolved `.` and `..` segments; percent-escapes stay escaped.
      const path = url.url.pathname.split('/').filter((segment) => segment !== '');
      if (path.length === 0 || url.url.pathname.endsWith('/')) {
        throw new CliError(
          `cannot store ${url.url.href}: its path names no file; give the URL of the .wasm file`,
        );
      }
      return [url.scheme, url.url.host, ...path];
    }
    case 'file':
      throw new CliError(
        `${formatModuleUrl(url)} is a local file: it is used in place, never copied into the store`,
      );
  }
}

/** The URL a stored file came from; undefined for anything that is not a stored module. */
function urlOfSegments(segments: string[]): string | undefined {
  const [scheme, host, ...path] = segments;
  if (scheme === undefined || !STORED_SCHEMES.has(scheme) || host === undefined || path.length === 0) {
    return undefined;
  }
  if (segments.some((segment) => segment.startsWith('.'))) return undefined; // partial writes
  return `${scheme}://${host}/${path.join('/')}`;
}
