import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parsePoliciesFile } from '@castellan/control';
import type { DesiredPolicy, PolicyPublisher, PublishOutcome } from '@castellan/control';

/** Editors write a file in several steps; wait for them to finish before reading it. */
const DEBOUNCE_MS = 200;

/**
 * A module written as a relative path (`./policies/p.wasm`) names a file next to the policies
 * file. policy-server reads a schemeless module as a registry reference, but no registry
 * reference starts with `./` or `../`, so this reading takes nothing away.
 */
export function resolveModuleUrl(moduleUrl: string, policiesPath: string): string {
  if (!moduleUrl.startsWith('./') && !moduleUrl.startsWith('../')) return moduleUrl;
  const path = isAbsolute(moduleUrl) ? moduleUrl : resolve(dirname(policiesPath), moduleUrl);
  return pathToFileURL(path).href;
}

export async function readPoliciesFile(path: string): Promise<DesiredPolicy[]> {
  const policies = parsePoliciesFile(await readFile(path, 'utf8'), path);
  return policies.map((policy) => {
    const { moduleUrl, group } = policy;
    if (moduleUrl !== undefined) return { ...policy, moduleUrl: resolveModuleUrl(moduleUrl, path) };
    if (!group) return policy;
    // A member's module resolves exactly as a policy's does.
    const members = Object.fromEntries(
      Object.entries(group.members).map(([name, member]) => [
        name,
        { ...member, moduleUrl: resolveModuleUrl(member.moduleUrl, path) },
      ]),
    );
    return { ...policy, group: { ...group, members } };
  });
}

export interface PoliciesSync {
  /** Publishes the file as it is now. */
  apply(): Promise<PublishOutcome[]>;
  /** Re-publishes on every change of the file until `stop`. */
  follow(onApplied: (outcomes: PublishOutcome[]) => void, onError: (error: Error) => void): void;
  stop(): void;
}

export function syncPoliciesFile(path: string, publisher: PolicyPublisher, pool: string): PoliciesSync {
  let watcher: ReturnType<typeof watch> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let queue = Promise.resolve();
  const apply = async () => publisher.publish(pool, await readPoliciesFile(path));
  return {
    apply,
    follow(onApplied, onError) {
      // Watch the directory: editors often replace the file rather than write into it.
      watcher = watch(dirname(path), (_event, name) => {
        if (name !== null && resolve(dirname(path), name) !== resolve(path)) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          queue = queue.then(() => apply().then(onApplied, onError));
        }, DEBOUNCE_MS);
      });
    },
    stop() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
