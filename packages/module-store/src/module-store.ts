import { Bucket, sha256Hex } from '@castellan/proto';
import { untilAnswered, untilStreamExists } from '@castellan/service-host';
import type { BucketRole } from '@castellan/service-host';
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Objm, setSha256Backend } from '@nats-io/obj';
import type { ObjectInfo, ObjectStore } from '@nats-io/obj';
import { readObjectChunks } from './chunk-reader.js';
import { ModuleStoreError, ModuleStoreErrorCode } from './errors.js';

/** How long a read may go without receiving a chunk before it is given up. */
export const DEFAULT_STALL_TIMEOUT_MS = 10_000;
/** How every object-store client records an object's digest: this prefix, then base64 (URL alphabet). */
const SHA256_DIGEST_PREFIX = 'SHA-256=';

/** A module held in the store, named by the hex sha256 of its bytes. */
export interface StoredModule {
  sha256: string;
  size: number;
}

export interface ModuleStoreOptions {
  /** JetStream replicas of the bucket when this call creates it (R3 in production). */
  replicas?: number;
  /** The fetcher owns the store and creates it; a reader (an evaluator) waits for it. Default owner. */
  role?: BucketRole;
  stallTimeoutMs?: number;
}

/**
 * Policy modules in the JetStream object store `castellan-modules`, keyed by content: a module is
 * stored once whatever URL it came from, and every read is checked against its name.
 */
export class ModuleStore {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly objects: ObjectStore,
    private readonly stallTimeoutMs: number,
  ) {}

  /**
   * Opens the bucket, creating it when it does not exist yet (or, as a reader, waiting for it);
   * asked again while JetStream times out.
   */
  static async open(nc: NatsConnection, options: ModuleStoreOptions = {}): Promise<ModuleStore> {
    // The pure-JS hash is ~4.5× slower on puts of multi-megabyte modules.
    setSha256Backend('native');
    const js = jetstream(nc);
    const open = async () => {
      if (options.role === 'reader') {
        await untilStreamExists(nc, `OBJ_${Bucket.Modules}`, `the object store ${Bucket.Modules}`);
      }
      return untilAnswered(() => new Objm(js).create(Bucket.Modules, { replicas: options.replicas ?? 1 }));
    };
    const objects = await open().catch((error: unknown) => {
      throw unavailable(`cannot open the object store ${Bucket.Modules}`, error);
    });
    return new ModuleStore(js, objects, options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS);
  }

  /**
   * The stored module with this digest, or undefined: also when the object was written with other
   * bytes than its name says (the fetcher then fetches it again, and its put replaces them).
   */
  async stat(sha256: string): Promise<StoredModule | undefined> {
    const info = await this.info(sha256);
    return info && !info.deleted && !writtenWithOtherBytes(info) ? { sha256, size: info.size } : undefined;
  }

  /**
   * Stores the bytes under their sha256; a module already stored is not written again, but an
   * object of that name written with other bytes is replaced.
   */
  async put(bytes: Uint8Array): Promise<StoredModule> {
    const sha256 = sha256Hex(bytes);
    const existing = await this.stat(sha256);
    if (existing) return existing;
    await this.objects.putBlob({ name: sha256 }, bytes).catch((error: unknown) => {
      throw unavailable(`cannot store module ${sha256}`, error);
    });
    return { sha256, size: bytes.byteLength };
  }

  /** The module's bytes, checked against its digest. */
  async get(sha256: string): Promise<Uint8Array> {
    const info = await this.info(sha256);
    if (!info || info.deleted) {
      throw new ModuleStoreError(
        ModuleStoreErrorCode.NotFound,
        `module ${sha256} is not in the object store ${Bucket.Modules}; fetch it first`,
      );
    }
    const written = writtenWithOtherBytes(info);
    if (written) {
      throw new ModuleStoreError(
        ModuleStoreErrorCode.Corrupt,
        `module ${sha256}: the object was written with bytes that hash to ${written}; fetching its URL again replaces them`,
      );
    }
    const bytes = await readObjectChunks(this.js, Bucket.Modules, info, this.stallTimeoutMs);
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new ModuleStoreError(
        ModuleStoreErrorCode.Corrupt,
        `module ${sha256}: stored bytes hash to ${actual}; delete the object so it is fetched again`,
      );
    }
    return bytes;
  }

  private info(sha256: string): Promise<ObjectInfo | null> {
    return this.objects.info(sha256).catch((error: unknown) => {
      throw unavailable(`cannot look up module ${sha256}`, error);
    });
  }
}

/**
 * The hex sha256 an object was written with when it is not its name, from the digest the writer
 * recorded (no read needed); undefined when they agree or no digest was recorded.
 */
function writtenWithOtherBytes(info: ObjectInfo): string | undefined {
  if (!info.digest.startsWith(SHA256_DIGEST_PREFIX)) return undefined;
  // Node's base64 decoder reads both alphabets (nats.js writes the URL one, others the standard one).
  const written = Buffer.from(info.digest.slice(SHA256_DIGEST_PREFIX.length), 'base64').toString('hex');
  return written === info.name ? undefined : written;
}

function unavailable(what: string, cause: unknown): ModuleStoreError {
  if (cause instanceof ModuleStoreError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ModuleStoreError(ModuleStoreErrorCode.Unavailable, `${what}: ${reason}`, { cause });
}
