/**
 * Hot reload of the TLS material. Kubernetes updates a mounted Secret by swapping the `..data`
 * symlink of its directory, so the directories are watched (not the file inodes), changes are
 * debounced, and material that does not load (half-written, mismatched pair) is logged while the
 * server keeps serving the previous one. A slow poll backs up the watches, which some volume
 * types do not deliver.
 */
import { messageOf } from '@castellan/proto';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { loadTlsMaterial, sameTlsMaterial } from './tls-material.js';
import type { TlsFiles, TlsMaterial } from './tls-material.js';

export const DEFAULT_TLS_RELOAD_DEBOUNCE_MS = 250;
export const DEFAULT_TLS_POLL_INTERVAL_MS = 60_000;

export interface TlsReloaderOptions {
  files: TlsFiles;
  /** The material the server started with. */
  initial: TlsMaterial;
  /** Installs new material (`server.setSecureContext`); throwing keeps the previous material. */
  apply(material: TlsMaterial): void;
  logger: Logger;
  debounceMs?: number;
  pollIntervalMs?: number;
}

export class TlsReloader {
  private current: TlsMaterial;
  private readonly watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(private readonly options: TlsReloaderOptions) {
    this.current = options.initial;
  }

  async start(): Promise<void> {
    const { files, logger } = this.options;
    const paths = [files.certFile, files.keyFile, ...files.clientCaFiles];
    const resolved = await Promise.all(paths.map((path) => realpath(path).catch(() => path)));
    const directories = new Set([...paths, ...resolved].map((path) => dirname(path)));
    for (const directory of directories) {
      try {
        const watcher = watch(directory, { persistent: false }, () => this.schedule());
        watcher.on('error', (error) =>
          logger.warn({ directory, err: messageOf(error) }, 'watching TLS files failed; polling only'),
        );
        this.watchers.push(watcher);
      } catch (error) {
        logger.warn({ directory, err: messageOf(error) }, 'cannot watch TLS files; polling only');
      }
    }
    this.poll = setInterval(
      () => this.schedule(),
      this.options.pollIntervalMs ?? DEFAULT_TLS_POLL_INTERVAL_MS,
    ).unref();
  }

  /** Resolves once no reload is running (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.debounce);
    clearInterval(this.poll);
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(
      () => this.reload(),
      this.options.debounceMs ?? DEFAULT_TLS_RELOAD_DEBOUNCE_MS,
    );
    this.debounce.unref();
  }

  private reload(): void {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.reloadOnce().finally(() => {
      this.running = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        this.reload();
      }
    });
  }

  private async reloadOnce(): Promise<void> {
    const { files, logger } = this.options;
    let material: TlsMaterial;
    try {
      material = await loadTlsMaterial(files);
    } catch (error) {
      logger.warn(
        { err: messageOf(error), certFile: files.certFile, keyFile: files.keyFile },
        'TLS files changed but do not load; still serving the previous certificate',
      );
      return;
    }
    if (this.closed || sameTlsMaterial(material, this.current)) return;
    try {
      this.options.apply(material);
    } catch (error) {
      logger.error({ err: messageOf(error) }, 'installing the new TLS material failed; keeping the previous');
      return;
    }
    this.current = material;
    logger.info(material.description, 'TLS material reloaded');
  }
}
