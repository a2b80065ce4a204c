import {
  isLatestTag,
  ModuleDistributionClient,
  OciError,
  OciErrorCode,
  parseModuleUrl,
} from '@castellan/oci';
import type { ModuleDistributionOptions, SourcesConfig } from '@castellan/oci';
import type { RegistrySources } from '@castellan/proto';
import type { DownloadedModule, LocatedModule, ModuleSource } from './module-source.js';

/**
 * The fetcher's modules come from OCI registries, web servers and files through the OCI client.
 * A request may carry its own sources (a pool's insecure hosts and CAs); each distinct set gets
 * its own client, since connection settings are per client.
 */
export class OciModuleSource implements ModuleSource {
  private readonly clients = new Map<string, ModuleDistributionClient>();

  constructor(private readonly options: ModuleDistributionOptions) {}

  async locate(url: string, sources: RegistrySources | undefined): Promise<LocatedModule | undefined> {
    const resolved = await this.client(sources).resolve(url);
    if (resolved.scheme !== 'registry') return undefined;
    return { sha256: resolved.sha256, manifestDigest: resolved.manifestDigest };
  }

  async download(url: string, sources: RegistrySources | undefined): Promise<DownloadedModule> {
    const { bytes, manifestDigest } = await this.client(sources).download(url);
    return { bytes, ...(manifestDigest !== undefined ? { manifestDigest } : {}) };
  }

  isMutable(url: string): boolean {
    const parsed = parseModuleUrl(url);
    return parsed.scheme === 'registry' && isLatestTag(parsed.reference);
  }

  isUnavailable(error: unknown): boolean {
    return error instanceof OciError && error.code === OciErrorCode.RegistryUnavailable;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => client.close()));
  }

  private client(sources: RegistrySources | undefined): ModuleDistributionClient {
    const key = sources ? JSON.stringify(sources) : '';
    let client = this.clients.get(key);
    if (!client) {
      const own: SourcesConfig | undefined = sources ?? this.options.sources;
      client = new ModuleDistributionClient({ ...this.options, ...(own ? { sources: own } : {}) });
      this.clients.set(key, client);
    }
    return client;
  }
}
