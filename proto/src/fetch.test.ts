import { encode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { PROTO_VERSION } from './codec.js';
import { ProtoErrorCode } from './errors.js';
import { decodeFetchReply, decodeFetchRequest, encodeFetchReply, encodeFetchRequest } from './fetch.js';
import type { FetchReply, FetchRequest } from './fetch.js';

describe('FetchRequest', () => {
  it.each<FetchRequest>([
    { url: 'registry://127.0.0.1:5000/policies/pod-privileged:v1' },
    { url: 'https://example.test/policy.wasm' },
  ])('round-trips %j', (request) => {
    expect(decodeFetchRequest(encodeFetchRequest(request))).toEqual(request);
  });

  const sources = { insecureSources: ['registry.dev.lan:5001'], sourceAuthorities: {} };

  it('encodes the URL alone, so a caller holding per-pool sources cannot send them', () => {
    const request = { url: 'registry://registry.dev.lan:5001/p:v1', sources };
    expect(decodeFetchRequest(encodeFetchRequest(request))).toEqual({ url: request.url });
  });

  it('refuses a request that carries sources, as an earlier sender would send them', () => {
    expect(() => decodeFetchRequest(encode({ v: PROTO_VERSION, url: 'x', sources }))).toThrow(
      expect.objectContaining({
        code: ProtoErrorCode.MessageInvalid,
        message:
          "FetchRequest.sources: a request cannot carry sources; insecure sources and CAs come from the fetcher's own sources.yml",
      }),
    );
  });

  it('names the field that is wrong', () => {
    expect(() => decodeFetchRequest(encode({ v: PROTO_VERSION, url: 42 }))).toThrow(
      'FetchRequest.url: expected a string',
    );
  });

  it('refuses a version it does not speak, saying which side to upgrade', () => {
    expect(() => decodeFetchRequest(encode({ v: 2, url: 'x' }))).toThrow(/upgrade the older service/);
    expect(() => decodeFetchRequest(encode({ v: 2, url: 'x' }))).toThrow(
      expect.objectContaining({ code: ProtoErrorCode.VersionUnsupported }),
    );
  });

  it('refuses bytes that are not a CBOR map', () => {
    expect(() => decodeFetchRequest(new Uint8Array([0xff, 0x00]))).toThrow(
      expect.objectContaining({ code: ProtoErrorCode.MessageInvalid }),
    );
    expect(() => decodeFetchRequest(encode(['v', 1]))).toThrow('FetchRequest: not a CBOR map');
  });
});

describe('FetchReply', () => {
  it.each<FetchReply>([
    {
      ok: true,
      module: {
        url: 'registry://127.0.0.1:5000/p:v1',
        sha256: 'a'.repeat(64),
        size: 20 * 1024 * 1024,
        manifestDigest: `sha256:${'b'.repeat(64)}`,
        metadata: {
          rules: [{ apiGroups: [''], operations: ['CREATE'] }],
          mutating: false,
          annotations: { a: 'b' },
        },
      },
    },
    { ok: true, module: { url: 'file:///p.wasm', sha256: 'c'.repeat(64), size: 9, metadata: null } },
    {
      ok: false,
      error: { code: 'CASTELLAN_OCI_NOT_FOUND', message: 'repository p not found on 127.0.0.1:5000' },
    },
  ])('round-trips %#', (reply) => {
    expect(decodeFetchReply(encodeFetchReply(reply))).toEqual(reply);
  });
});
