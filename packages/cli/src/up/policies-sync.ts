import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ControlError, ControlErrorCode, parsePoliciesFile } from '@castellan/control';
import { ModuleStoreErrorCode } from '@castellan/module-store';
import { OciErrorCode } from '@castellan/oci';
import { messageOf } from '@castellan/proto';
import type { DesiredPolicy, PolicyPublisher, PublishOutcome } from '@castellan/control';
import { Backoff } from '@castellan/service-host';

/** Editors write a file in several steps; wait for them to finish before reading it. */
const DEBOUNCE_MS = 200;

/** The policies file; modules written as paths name files relative to it (see parsePoliciesFile). */
export async function readPoliciesFile(path: string): Promise<DesiredPolicy[]> {
  return parsePoliciesFile(await readFile(path, 'utf8'), path);
}

export interface PoliciesSyncReport {
  onApplied: (outcomes: PublishOutcome[]) => void;
  onError: (error: Error) => void;
  /**
   * A publish met something out of reach; it runs again after `delayMs`, edited or not.
   * `policyIds`: the policies that failed so; none when the whole publish did (NATS down).
   */
  onRetry: (delayMs: number, policyIds: string[]) => void;
}

export interface PoliciesSync {
  /** Publishes the file as it is now. */
  apply(): Promise<PublishOutcome[]>;
  /**
   * Re-publishes on every change of the file until `stop`, and again with backoff after a
   * publish (this one's or the last `apply`'s) that failed for a cause that passes by itself.
   */
  follow(report: PoliciesSyncReport): void;
  stop(): void;
}

/**
 * Codes of failures that say nothing of the policy, only that something was out of reach: NATS,
 * JetStream or the fetcher (NATS down or restarting), or the registry or web server of the module
 * (refused connections, timeouts, 5xx and 429 answers, after the fetcher's own retries). The same
 * publish can succeed later. Others (a module not found, a file not allowed, credentials refused)
 * wait for the file to change.
 */
const TRANSIENT_FAILURE_CODES = new Set<string>([
  ControlErrorCode.FetcherUnavailable,
  ControlErrorCode.PublishFailed,
  ModuleStoreErrorCode.Unavailable,
  OciErrorCode.RegistryUnavailable,
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
  /** What the last publish left to retry: undefined, nothing; [] the whole publish; else these policies. */
  let retryWanted: string[] | undefined;
  let stopped = false;

  const apply = async () => {
    retryWanted = undefined;
    // A file that cannot be read or parsed is the user's to fix: not retried.
    const desired = await readPoliciesFile(path);
    // Until the publisher answers, a throw can only be the bus's.
    retryWanted = [];
    const outcomes = await publisher.publish(pool, desired).catch((error: unknown) => {
      throw new ControlError(
        ControlErrorCode.PublishFailed,
        `the policies could not be published (${messageOf(error)}); is NATS up?`,
        { cause: error },
      );
    });
    const transient = outcomes.filter(
      (outcome) => outcome.result === 'failed' && TRANSIENT_FAILURE_CODES.has(outcome.error.code),
    );
    retryWanted = transient.length > 0 ? transient.map((outcome) => outcome.policyId) : undefined;
    return outcomes;
  };
  const publishLater = (report: PoliciesSyncReport, delayMs: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      queue = queue.then(async () => {
        if (stopped) return;
        await apply().then(report.onApplied, report.onError);
        if (retryWanted === undefined) backoff.reset();
        // A publish already waiting (the file changed meanwhile) makes a retry needless.
        else if (!stopped && timer === undefined) retry(report);
      });
    }, delayMs);
  };
  const retry = (report: PoliciesSyncReport) => {
    const delay = backoff.next();
    report.onRetry(delay, retryWanted ?? []);
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
      if (retryWanted !== undefined) retry(report);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
