import type { ModuleStore } from '@castellan/module-store';
import type { FetchedModule, FetchRequest, MessageFields } from '@castellan/proto';
import { readPolicyMetadata, serialiseMetadata } from '@castellan/runtime';
import type { Logger } from 'pino';
import { Coalescer } from './coalescer.js';
import type { ModuleIndex } from './module-index.js';
import type { ModuleSource } from './module-source.js';

export interface ModuleFetcherDeps {
  source: ModuleSource;
  store: ModuleStore;
  index: ModuleIndex;
  logger: Logger;
}

/**
 * Makes sure a module URL's bytes are in the module store and says which module it is.
 *
 * - A URL the source may not read (a file outside the file roots) is refused first, so that not
 *   even the module index answers for it.
 * - A URL fetched before is answered from the module index without asking its source again,
 *   unless the URL is mutable (`:latest`), which is resolved on every fetch as Kubewarden does.
 * - A resolved digest already in the store is not downloaded again.
 * - When the source is unreachable, a URL fetched before keeps answering with what is stored.
 * - Concurrent fetches of the same URL share one run.
 */
export class ModuleFetcher {
  private readonly coalescer = new Coalescer<FetchedModule>();
  /** Downloads started since this fetcher was built; tests and metrics read it. */
  downloads = 0;

  constructor(private readonly deps: ModuleFetcherDeps) {}

  fetch({ url }: FetchRequest): Promise<FetchedModule> {
    return this.coalescer.run(url, () => this.resolve(url));
  }

  private async resolve(url: string): Promise<FetchedModule> {
    const { source, store, index, logger } = this.deps;
    await source.admit(url);
    const known = await index.lookup(url);
    const knownIsStored = known !== undefined && (await store.stat(known.sha256)) !== undefined;
    if (known && knownIsStored && !source.isMutable(url)) return known;

    let located;
    try {
      located = await source.locate(url);
    } catch (error) {
      if (known && knownIsStored && source.isUnavailable(error)) {
        logger.warn(
          { url, sha256: known.sha256, err: error },
          'source unreachable, answering with the stored module',
        );
        return known;
      }
      throw error;
    }
    if (located && known?.sha256 === located.sha256 && knownIsStored) return known;

    // The download verifies itself against the manifest it reads; should the tag move between
    // the two reads, the newer module is what gets stored and answered.
    const stored = located ? await store.stat(located.sha256) : undefined;
    let bytes: Uint8Array;
    let manifestDigest = located?.manifestDigest;
    if (located && stored) {
      bytes = await store.get(located.sha256);
    } else {
      this.downloads += 1;
      logger.info({ url }, 'downloading module');
      const downloaded = await source.download(url);
      bytes = downloaded.bytes;
      manifestDigest = downloaded.manifestDigest ?? manifestDigest;
    }

    const metadata = describeMetadata(bytes);
    const { sha256, size } = await store.put(bytes);
    const module: FetchedModule = {
      url,
      sha256,
      size,
      ...(manifestDigest !== undefined ? { manifestDigest } : {}),
      metadata,
    };
    await index.record(module);
    logger.info({ url, sha256, size }, 'module stored');
    return module;
  }
}

function describeMetadata(bytes: Uint8Array): MessageFields | null {
  const metadata = readPolicyMetadata(bytes);
  return metadata ? (JSON.parse(serialiseMetadata(metadata)) as MessageFields) : null;
}
