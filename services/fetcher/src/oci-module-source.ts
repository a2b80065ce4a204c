import {
  isLatestTag,
  ModuleDistributionClient,
  OciError,
  OciErrorCode,
  parseModuleUrl,
} from '@castellan/oci';
import type { ModuleDistributionOptions, ModuleUrl } from '@castellan/oci';
import type { FileRoots } from './file-roots.js';
import type { DownloadedModule, LocatedModule, ModuleSource } from './module-source.js';

/** The fetcher's client options: which restricted networks it may reach is always stated. */
export type FetcherDistributionOptions = ModuleDistributionOptions & { allowedNetworks: readonly string[] };

/**
 * The fetcher's modules come from OCI registries, web servers and files through one OCI client,
 * configured by the fetcher alone (sources.yml, allowed networks); files only under its file roots.
 */
export class OciModuleSource implements ModuleSource {
  private readonly client: ModuleDistributionClient;

  constructor(
    options: FetcherDistributionOptions,
    private readonly fileRoots: FileRoots,
  ) {
    this.client = new ModuleDistributionClient(options);
  }

  async admit(url: string): Promise<void> {
    await this.readable(url);
  }

  async locate(url: string): Promise<LocatedModule | undefined> {
    const resolved = await this.client.resolve(url);
    if (resolved.scheme !== 'registry') return undefined;
    return { sha256: resolved.sha256, manifestDigest: resolved.manifestDigest };
  }

  async download(url: string): Promise<DownloadedModule> {
    const { bytes, manifestDigest } = await this.client.download(await this.readable(url));
    return { bytes, ...(manifestDigest !== undefined ? { manifestDigest } : {}) };
  }

  isMutable(url: string): boolean {
    const parsed = parseModuleUrl(url);
    return parsed.scheme === 'registry' && isLatestTag(parsed.reference);
  }

  isUnavailable(error: unknown): boolean {
    return error instanceof OciError && error.code === OciErrorCode.RegistryUnavailable;
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** The URL to read: a file by the real path its root check resolved, so no link is followed after. */
  private async readable(url: string): Promise<ModuleUrl> {
    const parsed = parseModuleUrl(url);
    if (parsed.scheme !== 'file') return parsed;
    return { scheme: 'file', path: await this.fileRoots.resolve(parsed.path, url) };
  }
}
