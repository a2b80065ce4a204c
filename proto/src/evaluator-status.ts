import { decodeMessage, encodeMessage } from './codec.js';
import type { WireError } from './errors.js';

/** A policy revision an evaluator could not load; requests to it get a deny naming the error. */
export interface PolicyLoadFailure {
  revision: number;
  error: WireError;
}

/**
 * What one evaluator reports in the status KV (key `<pool>.<evaluatorId>`), rewritten on every
 * change and every heartbeat. Liveness is the heartbeat timestamp: nats-server 2.9 ignores KV TTLs.
 */
export interface EvaluatorStatus {
  evaluatorId: string;
  pool: string;
  /** Milliseconds since the epoch of the last write. */
  heartbeat: number;
  /** How often the evaluator writes; a reader counts it dead after a few missed beats. */
  heartbeatIntervalMs: number;
  /** Policy id → revision being served (loaded, or answered with its load failure). */
  loaded: Record<string, number>;
  failed: Record<string, PolicyLoadFailure>;
  /** True once the evaluator is draining: readers stop counting on it. */
  draining: boolean;
}

/** An evaluator that missed this many heartbeats is dead (its status stays in the KV). */
export const MISSED_HEARTBEATS_BEFORE_DEAD = 3;

/**
 * When a status was written, on the reader's clock: liveness never compares two machines' clocks.
 * An update is dated now; a status replayed from before the reader's watch started may be a dead
 * evaluator's last word, so it is dated by its own heartbeat (never in the future).
 */
export function statusSeenAt(status: EvaluatorStatus, replayed: boolean, now: number): number {
  return replayed ? Math.min(now, status.heartbeat) : now;
}

/** Whether the evaluator wrote its status within its last 3 heartbeat intervals (draining aside). */
export function heartbeatFresh(status: EvaluatorStatus, seenAt: number, now: number): boolean {
  return now - seenAt <= MISSED_HEARTBEATS_BEFORE_DEAD * status.heartbeatIntervalMs;
}

export function encodeEvaluatorStatus(status: EvaluatorStatus): Uint8Array {
  return encodeMessage(status);
}

export function decodeEvaluatorStatus(bytes: Uint8Array): EvaluatorStatus {
  const reader = decodeMessage(bytes, 'EvaluatorStatus');
  const loadedReader = reader.object('loaded');
  const loaded: Record<string, number> = {};
  for (const policyId of loadedReader.keys()) loaded[policyId] = loadedReader.number(policyId);
  const failedReader = reader.object('failed');
  const failed: Record<string, PolicyLoadFailure> = {};
  for (const policyId of failedReader.keys()) {
    const failure = failedReader.object(policyId);
    failed[policyId] = {
      revision: failure.number('revision'),
      error: failure.wireError('error'),
    };
  }
  return {
    evaluatorId: reader.string('evaluatorId'),
    pool: reader.string('pool'),
    heartbeat: reader.number('heartbeat'),
    heartbeatIntervalMs: reader.number('heartbeatIntervalMs'),
    loaded,
    failed,
    draining: reader.boolean('draining'),
  };
}
