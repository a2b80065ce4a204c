import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchErrorCode } from './errors.js';
import { FileRoots } from './file-roots.js';

describe('FileRoots', () => {
  let dir: string;
  let root: string;
  let outside: string;

  const refusalOf = async (roots: FileRoots, path: string): Promise<{ code: string; message: string }> => {
    const url = pathToFileURL(path).href;
    const error = await roots.resolve(path, url).then(
      () => {
        throw new Error(`${path} was admitted`);
      },
      (refused: { code: string; message: string }) => refused,
    );
    return { code: error.code, message: error.message.replace(url, '<url>') };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'castellan-file-roots-'));
    root = join(dir, 'root');
    outside = join(dir, 'outside');
    await mkdir(join(root, 'nested'), { recursive: true });
    await mkdir(outside);
    await writeFile(join(root, 'nested', 'p.wasm'), 'module');
    await writeFile(join(outside, 'secret'), 'secret');
    await symlink(join(outside, 'secret'), join(root, 'file-link'));
    await symlink(outside, join(root, 'dir-link'));
    await symlink(join(outside, 'missing'), join(root, 'dangling-link'));
    await symlink(join(root, 'nested'), join(outside, 'link-into-root'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('admits a file under a root by its real path, a link into the root included', async () => {
    const roots = await FileRoots.open([root]);
    const file = join(root, 'nested', 'p.wasm');
    expect(await roots.resolve(file, 'u')).toBe(file);
    expect(await roots.resolve(join(outside, 'link-into-root', 'p.wasm'), 'u')).toBe(file);
    // Missing, but where it would be lies under the root: the read will say "no such file".
    expect(await roots.resolve(join(root, 'nested', 'absent.wasm'), 'u')).toBe(
      join(root, 'nested', 'absent.wasm'),
    );
  });

  it('refuses every path outside the roots with one answer, whether the file exists or not', async () => {
    const roots = await FileRoots.open([root]);
    const answers = await Promise.all(
      [
        join(outside, 'secret'),
        join(outside, 'missing'),
        join(outside, 'secret', 'below-a-file'),
        join(root, '..', 'outside', 'secret'),
        join(root, 'file-link'),
        join(root, 'dir-link', 'secret'),
        join(root, 'dir-link', 'missing'),
        join(root, 'dangling-link'),
        `${root}-sibling/p.wasm`,
        '/',
      ].map((path) => refusalOf(roots, path)),
    );
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(answers[0]).toEqual({
      code: FetchErrorCode.FileNotAllowed,
      message:
        '<url> is not under a directory this fetcher may read modules from (CASTELLAN_FETCHER_FILE_ROOTS)',
    });
  });

  it('refuses every file when no root is configured', async () => {
    const roots = await FileRoots.open([]);
    expect((await refusalOf(roots, join(root, 'nested', 'p.wasm'))).code).toBe(FetchErrorCode.FileNotAllowed);
  });

  it('reports every root that is missing or not a directory', async () => {
    await expect(FileRoots.open([join(dir, 'absent'), join(outside, 'secret'), root])).rejects.toThrow(
      expect.objectContaining({
        code: FetchErrorCode.ConfigInvalid,
        message: expect.stringMatching(
          /cannot resolve .*absent \(ENOENT[\s\S]*outside\/secret is not a directory/,
        ) as string,
      }),
    );
  });
});
