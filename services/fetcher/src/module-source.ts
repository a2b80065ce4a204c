/** Where a module URL points now, learnt without downloading the module. */
export interface LocatedModule {
  /** Hex sha256 of the module bytes (the wasm layer digest). */
  sha256: string;
  manifestDigest: string;
}

export interface DownloadedModule {
  bytes: Uint8Array;
  manifestDigest?: string;
}

/** The remote side of a fetch: OCI registries, HTTPS servers and local files. */
export interface ModuleSource {
  /**
   * Refuses a URL this fetcher may not read (a file outside its file roots) before anything is
   * answered for it, from the module index included.
   */
  admit(url: string): Promise<void>;
  /**
   * The digest a URL resolves to when its source can tell without a download (an OCI manifest);
   * undefined for sources that cannot (HTTPS, files).
   */
  locate(url: string): Promise<LocatedModule | undefined>;
  /** Downloads and verifies the module (layer digest, wasm magic, size limit). */
  download(url: string): Promise<DownloadedModule>;
  /** True when the same URL may name other bytes tomorrow (`:latest`), so it is resolved on every fetch. */
  isMutable(url: string): boolean;
  /** True when the error means the source could not be reached (as opposed to a refusal). */
  isUnavailable(error: unknown): boolean;
}
