import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { messageOf } from '@castellan/proto';
import { FetchError, FetchErrorCode } from './errors.js';

/**
 * The directories `file://` modules may be read from (`CASTELLAN_FETCHER_FILE_ROOTS`). A path is
 * judged by its real path (`..` and symlinks resolved), and every refusal reads the same whether
 * the file exists or not: a requester on the bus must not learn what is on this machine's disk.
 */
export class FileRoots {
  private constructor(private readonly roots: readonly string[]) {}

  /** Resolves the roots' real paths once; a root that is not a directory is a configuration error. */
  static async open(directories: readonly string[]): Promise<FileRoots> {
    const roots: string[] = [];
    const problems: string[] = [];
    for (const directory of directories) {
      try {
        const real = await realpath(directory);
        if ((await stat(real)).isDirectory()) roots.push(real);
        else problems.push(`CASTELLAN_FETCHER_FILE_ROOTS: ${directory} is not a directory`);
      } catch (error) {
        problems.push(`CASTELLAN_FETCHER_FILE_ROOTS: cannot resolve ${directory} (${messageOf(error)})`);
      }
    }
    if (problems.length > 0) {
      throw new FetchError(
        FetchErrorCode.ConfigInvalid,
        `invalid fetcher configuration:\n  - ${problems.join('\n  - ')}`,
      );
    }
    return new FileRoots(roots);
  }

  /** The real path to read for `path` (of the module `url`), when it lies under a root. */
  async resolve(path: string, url: string): Promise<string> {
    const real = await realPathOf(path);
    if (real !== undefined && this.roots.some((root) => isWithin(root, real))) return real;
    throw new FetchError(
      FetchErrorCode.FileNotAllowed,
      `${url} is not under a directory this fetcher may read modules from (CASTELLAN_FETCHER_FILE_ROOTS)`,
    );
  }
}

/**
 * The real path of `path`; for one that does not exist, its deepest existing ancestor's real path
 * joined with the rest, so that a missing file is judged where it would be. An entry that exists
 * yet does not resolve (a dangling or looping link) cannot be judged: undefined.
 */
async function realPathOf(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    if (await lstat(path).catch(() => undefined)) return undefined;
    const parent = dirname(path);
    if (parent === path) return undefined;
    const realParent = await realPathOf(parent);
    return realParent === undefined ? undefined : join(realParent, basename(path));
  }
}

function isWithin(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest === '' || (!isAbsolute(rest) && rest !== '..' && !rest.startsWith(`..${sep}`));
}
