import { formatModuleUrl, isLatestTag, parseModuleUrl } from '@castellan/oci';
import { sha256Hex } from '@castellan/proto';
import type { ModuleBytes } from '@castellan/runtime';
import type { PolicyStore } from './policy-store.js';
import { withDistributionClient } from './registry-options.js';
import type { RegistryFlags } from './registry-options.js';
import { startTransfer } from './transfer-progress.js';

/** A module in the store, freshly downloaded or found there. */
export interface PulledPolicy {
  /** The canonical URL (`registry://host/repo:tag`, `https://…`). */
  url: string;
  path: string;
  bytes: ModuleBytes;
  /** Hex sha256 of the module. */
  sha256: string;
  /** True when the store already held it and nothing was downloaded. */
  reused: boolean;
}

/**
 * Brings a module into the store (docs/kubewarden-compatibility.md#module-urls): a `registry://`, `https://`
 * or `http://` URL, or a schemeless OCI reference as policy-server reads it. A held copy is reused, except
 * for the moving `latest` tag, which is always pulled again. Downloads are verified by the distribution
 * client.
 */
export async function pullIntoStore(
  reference: string,
  registry: RegistryFlags,
  store: PolicyStore,
): Promise<PulledPolicy> {
  const url = parseModuleUrl(reference);
  const canonical = formatModuleUrl(url);
  const path = store.pathOf(url);
  if (!(url.scheme === 'registry' && isLatestTag(url.reference))) {
    const held = await store.read(url);
    if (held) return { url: canonical, path, bytes: held, sha256: sha256Hex(held), reused: true };
  }
  const progress = startTransfer('pull', canonical);
  try {
    const downloaded = await withDistributionClient(registry, (client) =>
      client.download(url, { onProgress: progress.onProgress }),
    );
    await store.save(url, downloaded.bytes);
    progress.finish(downloaded.bytes.byteLength, downloaded.immutableReference);
    return {
      url: canonical,
      path,
      bytes: Uint8Array.from(downloaded.bytes),
      sha256: downloaded.sha256,
      reused: false,
    };
  } catch (error) {
    progress.abandon();
    throw error;
  }
}
