import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePolicy, exampleReview, startCastellan } from '../harness/castellan.js';
import type { CastellanProcesses } from '../harness/castellan.js';
import { startNatsServer } from '../harness/nats.js';
import type { NatsServer } from '../harness/nats.js';
import { answerWithin } from './load.js';

/**
 * How long one request may wait for its answer: the policy's timeout (2 s) plus the gateway's
 * grace, with slack. A request not answered by then is reported, not left to hang the test.
 */
const ANSWER_WITHIN_MS = 5000;

/** A small deterministic generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Ways to break an AdmissionReview, from bytes to structure. */
function mutate(original: Buffer, next: () => number): { body: Buffer; contentType: string } {
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T;
  const json = () => JSON.parse(original.toString('utf8')) as { [key: string]: Json };
  const oddValues: Json[] = [null, 0, -1, 1e308, '', 'x'.repeat(1000), [], {}, true, [[[[]]]], { uid: 7 }];
  const structural = (): Json => {
    const review = json();
    const request = review.request as { [key: string]: Json };
    switch (Math.floor(next() * 5)) {
      case 0:
        delete request[pick(Object.keys(request))];
        return review;
      case 1:
        request[pick(Object.keys(request))] = pick(oddValues);
        return review;
      case 2:
        review.request = pick(oddValues);
        return review;
      case 3:
        return pick(oddValues);
      default:
        request.uid = pick(oddValues);
        return review;
    }
  };
  switch (Math.floor(next() * 6)) {
    case 0:
      return {
        body: original.subarray(0, Math.floor(next() * original.length)),
        contentType: 'application/json',
      };
    case 1: {
      const body = Buffer.from(original);
      for (let flips = 0; flips < 8; flips++)
        body[Math.floor(next() * body.length)] = Math.floor(next() * 256);
      return { body, contentType: 'application/json' };
    }
    case 2:
      return {
        body: original,
        contentType: pick(['text/plain', 'application/xml', '', 'application/json-patch+json']),
      };
    case 3:
      return {
        body: Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x7d]),
        contentType: 'application/json',
      };
    default:
      return { body: Buffer.from(JSON.stringify(structural())), contentType: 'application/json' };
  }
}

const heapUsed = (metrics: string) =>
  Number(/^castellan_gateway_nodejs_heap_size_used_bytes (\d+(\.\d+)?)/m.exec(metrics)?.[1] ?? Number.NaN);

describe('fuzzing the gateway with mutated AdmissionReviews (real processes)', () => {
  let nats: NatsServer;
  let castellan: CastellanProcesses;

  beforeAll(async () => {
    nats = await startNatsServer();
    castellan = await startCastellan({ bus: nats });
    await castellan.publish([examplePolicy('pod-privileged', 'pod-privileged')]);
    await castellan.waitUntilServed(['pod-privileged']);
  }, 60_000);

  afterAll(async () => {
    await castellan?.stop();
    await nats?.stop();
  });

  it('answers thousands of broken requests with JSON 4xx (or a decision), and stays healthy', async () => {
    const original = await exampleReview('privileged-pod');
    const next = random(20261123);
    const heapBefore = heapUsed(await castellan.metrics());
    // Every request's answer, or why it has none (a hang is reported here, not left to vitest's timeout).
    const unexpected: ({ status: number; text: string } | { reason: string })[] = [];
    const paths = ['/validate/pod-privileged', '/validate_raw/pod-privileged', '/audit/pod-privileged'];
    for (let batch = 0; batch < 100; batch++) {
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, () => {
          const { body, contentType } = mutate(original, next);
          const path = paths[Math.floor(next() * paths.length)] ?? paths[0]!;
          return answerWithin(
            castellan.postRaw(path, body, contentType ? { 'content-type': contentType } : {}),
            ANSWER_WITHIN_MS,
          );
        }),
      );
      for (const outcome of outcomes) {
        if (!('answer' in outcome)) {
          unexpected.push(outcome);
          continue;
        }
        const { answer } = outcome;
        const json = answer.contentType?.startsWith('application/json') ? tryParse(answer.text) : undefined;
        const fine = [200, 400, 413, 415, 422].includes(answer.status) && json !== undefined;
        if (!fine) unexpected.push({ status: answer.status, text: answer.text.slice(0, 200) });
      }
    }
    expect(unexpected).toEqual([]);

    // Still deciding correctly, and the heap did not keep what it was sent.
    const verdict = await castellan.validate('pod-privileged', original);
    expect(verdict).toMatchObject({
      status: 200,
      allowed: false,
      message: 'Privileged container is not allowed',
    });
    const heapAfter = heapUsed(await castellan.metrics());
    expect(heapAfter - heapBefore).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
