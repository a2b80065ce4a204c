import type { ExecutionModeName } from '@castellan/proto';
import { compilePolicyModule } from '@castellan/runtime';
import type { ModuleBytes, PolicyModule } from '@castellan/runtime';

/** Where module bytes come from: the module store (`ModuleStore`), checked against their digest. */
export interface ModuleSource {
  get(sha256: string): Promise<Uint8Array>;
}

interface CacheEntry {
  module: Promise<PolicyModule>;
  users: number;
}

/**
 * Compiled modules, one per digest and execution mode, shared by every policy revision using it.
 * A revision acquires its module and releases it when it is unloaded; the last release drops the
 * compiled module. A failed read or compile is not cached, so the next revision tries again.
 */
export class ModuleCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    private readonly source: ModuleSource,
    private readonly memoryLimitMiB: number,
  ) {}

  acquire(sha256: string, executionMode: ExecutionModeName | undefined): Promise<PolicyModule> {
    const key = cacheKey(sha256, executionMode);
    const cached = this.entries.get(key);
    if (cached) {
      cached.users++;
      return cached.module;
    }
    const entry: CacheEntry = { module: this.compile(sha256, executionMode), users: 1 };
    this.entries.set(key, entry);
    entry.module.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.module;
  }

  release(sha256: string, executionMode: ExecutionModeName | undefined): void {
    const key = cacheKey(sha256, executionMode);
    const entry = this.entries.get(key);
    if (entry && --entry.users <= 0) this.entries.delete(key);
  }

  /** Compiled modules held, for tests and logs. */
  get size(): number {
    return this.entries.size;
  }

  private async compile(sha256: string, executionMode: ExecutionModeName | undefined): Promise<PolicyModule> {
    const bytes = await this.source.get(sha256);
    // Kubewarden's policy-server refuses waPC modules without `protocolVersion: v1`
    // (docs/kubewarden-compatibility.md#wapc-operations).
    return compilePolicyModule(ownedBytes(bytes), {
      executionMode,
      memoryLimitMiB: this.memoryLimitMiB,
      requireProtocolVersion: true,
    });
  }
}

function cacheKey(sha256: string, executionMode: ExecutionModeName | undefined): string {
  return `${sha256}/${executionMode ?? 'metadata'}`;
}

function ownedBytes(bytes: Uint8Array): ModuleBytes {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as ModuleBytes) : new Uint8Array(bytes);
}
