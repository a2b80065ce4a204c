import type { JetStreamClient } from '@nats-io/jetstream';
import type { ObjectInfo } from '@nats-io/obj';
import { ModuleStoreError, ModuleStoreErrorCode } from './errors.js';

/**
 * Chunks requested per pull: 8 × 128 KiB keeps 1 MiB in flight per read. With 64 per pull, eight
 * parallel 20 MB reads on one connection stalled after the first chunk.
 */
const CHUNKS_PER_PULL = 8;

/**
 * Reads an object's chunks with an ordered pull consumer on its chunk subject
 * (`$O.<bucket>.C.<nuid>`, the object-store layout every NATS client shares).
 *
 * Why not `ObjectStore.get`: nats.js 3.4 reads through a flow-controlled push consumer that
 * stalls when several large objects are read at once (nats-io/nats.js#430; eight parallel reads
 * of a 20 MB module never finish here). A pull consumer asks for what it can take.
 */
export async function readObjectChunks(
  js: JetStreamClient,
  bucket: string,
  info: ObjectInfo,
  stallTimeoutMs: number,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(info.size);
  if (info.size === 0) return bytes;
  const consumer = await js.consumers.get(`OBJ_${bucket}`, {
    filter_subjects: `$O.${bucket}.C.${info.nuid}`,
  });
  const messages = await consumer.consume({ max_messages: CHUNKS_PER_PULL, expires: stallTimeoutMs });
  let offset = 0;
  let stalled = false;
  let watchdog = setTimeout(onStall, stallTimeoutMs);
  function onStall(): void {
    stalled = true;
    void messages.close();
  }
  try {
    for await (const message of messages) {
      clearTimeout(watchdog);
      watchdog = setTimeout(onStall, stallTimeoutMs);
      if (offset + message.data.length > bytes.length) {
        throw new ModuleStoreError(
          ModuleStoreErrorCode.Corrupt,
          `module ${info.name}: chunks hold more than the ${info.size} bytes its entry declares`,
        );
      }
      bytes.set(message.data, offset);
      offset += message.data.length;
      if (message.info.pending === 0) break;
    }
  } finally {
    clearTimeout(watchdog);
    await messages.close();
  }
  if (stalled) {
    throw new ModuleStoreError(
      ModuleStoreErrorCode.Unavailable,
      `module ${info.name}: no chunk arrived for ${stallTimeoutMs} ms after ${offset} of ${info.size} bytes; is JetStream reachable?`,
    );
  }
  if (offset !== info.size) {
    throw new ModuleStoreError(
      ModuleStoreErrorCode.Corrupt,
      `module ${info.name}: read ${offset} bytes, its entry declares ${info.size}`,
    );
  }
  return bytes;
}
