import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ControlError, ControlErrorCode, parsePoliciesFile } from '@castellan/control';
import { ModuleStoreErrorCode } from '@castellan/module-store';
import { messageOf } from '@castellan/proto';
import type { DesiredPolicy, PolicyPublisher, PublishOutcome } from '@castellan/control';
import { Backoff } from './backoff.js';

/** Editors write a file in several steps; wait for them to finish before reading it. */
const DEBOUNCE_MS = 200;

/** The policies file; modules written as paths name files relative to it (see parsePoliciesFile). */
export async function readPoliciesFile(path: string): Promise<DesiredPolicy[]> {
  return parsePoliciesFile(await readFile(path, 'utf8'), path);
}

export interface PoliciesSyncReport {
  onApplied: (outcomes: PublishOutcome[]) => void;
  onError: (error: Error) => void;
  /** A publish met an unreachable bus; it runs again after `delayMs`, edited or not. */
  onRetry: (delayMs: number) => void;
}

export interface PoliciesSync {
  /** Publishes the file as it is now. */
  apply(): Promise<PublishOutcome[]>;
  /**
   * Re-publishes on every change of the file until `stop`, and again with backoff after a
   * publish (this one's or the last `apply`'s) that failed because the bus was unreachable.
   */
  follow(report: PoliciesSyncReport): void;
  stop(): void;
}

/**
 * Codes of failures that say nothing of the policy, only that NATS, JetStream or the fetcher was
 * out of reach (NATS down or restarting): the same publish can succeed later. Others (a module
 * not found, a file not allowed) wait for the file to change.
 */
const BUS_FAILURE_CODES = new Set<string>([
  ControlErrorCode.FetcherUnavailable,
  ControlErrorCode.PublishFailed,
  ModuleStoreErrorCode.Unavailable,
]);

export function syncPoliciesFile(
  path: string,
  publisher: PolicyPublisher,
  pool: string,
  backoff = new Backoff(),
): PoliciesSync {
  let watcher: ReturnType<typeof watch> | undefined;
  /** The next publish: after an edit settles, or a retry. */
  let timer: NodeJS.Timeout | undefined;
  let queue = Promise.resolve();
  let busFailed = false;
  let stopped = false;

  const apply = async () => {
    busFailed = false;
    // A file that cannot be read or parsed is the user's to fix: not retried.
    const desired = await readPoliciesFile(path);
    // Until the publisher answers, a throw can only be the bus's.
    busFailed = true;
    const outcomes = await publisher.publish(pool, desired).catch((error: unknown) => {
      throw new ControlError(
        ControlErrorCode.PublishFailed,
        `the policies could not be published (${messageOf(error)}); is NATS up?`,
        { cause: error },
      );
    });
    busFailed = outcomes.some(
      (outcome) => outcome.result === 'failed' && BUS_FAILURE_CODES.has(outcome.error.code),
    );
    return outcomes;
  };
  const publishLater = (report: PoliciesSyncReport, delayMs: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      queue = queue.then(async () => {
        if (stopped) return;
        await apply().then(report.onApplied, report.onError);
        if (!busFailed) backoff.reset();
        // A publish already waiting (the file changed meanwhile) makes a retry needless.
        else if (!stopped && timer === undefined) retry(report);
      });
    }, delayMs);
  };
  const retry = (report: PoliciesSyncReport) => {
    const delay = backoff.next();
    report.onRetry(delay);
    publishLater(report, delay);
  };

  return {
    apply,
    follow(report) {
      // Watch the directory: editors often replace the file rather than write into it.
      watcher = watch(dirname(path), (_event, name) => {
        if (name !== null && resolve(dirname(path), name) !== resolve(path)) return;
        publishLater(report, DEBOUNCE_MS);
      });
      if (busFailed) retry(report);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
