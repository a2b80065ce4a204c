import { decodeMessage, encodeMessage } from './codec.js';
import type { MessageFields } from './codec.js';
import { ProtoError, ProtoErrorCode } from './errors.js';
import type { WireError } from './errors.js';

/**
 * Asks a fetcher to make sure a module is in the module store (`Subject.Fetch`). How the fetcher
 * connects (insecure sources, CAs) is its own configuration, never the requester's.
 */
export interface FetchRequest {
  /** `registry://…`, `https://…`, `http://…` or `file:///…` (a schemeless reference means `registry://`). */
  url: string;
}

/** A module that is in the module store, as a fetcher reports it. */
export interface FetchedModule {
  /** The URL as requested. */
  url: string;
  /** Hex sha256 of the module bytes: its object name in `Bucket.Modules`. */
  sha256: string;
  size: number;
  /** The OCI manifest digest the URL resolved to (`registry://` only). */
  manifestDigest?: string;
  /** The parsed `io.kubewarden.metadata` section; null for a module without one. */
  metadata: MessageFields | null;
}

export type FetchReply = { ok: true; module: FetchedModule } | { ok: false; error: WireError };

/** Encodes the URL alone, whatever else the object carries. */
export function encodeFetchRequest(request: FetchRequest): Uint8Array {
  return encodeMessage({ url: request.url });
}

export function decodeFetchRequest(bytes: Uint8Array): FetchRequest {
  const reader = decodeMessage(bytes, 'FetchRequest');
  // Earlier senders could lower a fetcher's TLS checks per request; refused loudly, not ignored.
  if (reader.has('sources')) {
    throw new ProtoError(
      ProtoErrorCode.MessageInvalid,
      "FetchRequest.sources: a request cannot carry sources; insecure sources and CAs come from the fetcher's own sources.yml",
    );
  }
  return { url: reader.string('url') };
}

export function encodeFetchReply(reply: FetchReply): Uint8Array {
  return encodeMessage(reply);
}

export function decodeFetchReply(bytes: Uint8Array): FetchReply {
  const reader = decodeMessage(bytes, 'FetchReply');
  if (!reader.boolean('ok')) return { ok: false, error: reader.wireError('error') };
  const module = reader.object('module');
  const manifestDigest = module.optionalString('manifestDigest');
  return {
    ok: true,
    module: {
      url: module.string('url'),
      sha256: module.string('sha256'),
      size: module.number('size'),
      ...(manifestDigest !== undefined ? { manifestDigest } : {}),
      metadata: module.has('metadata') ? module.json('metadata') : null,
    },
  };
}
