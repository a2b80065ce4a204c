import { KubernetesObjectApi, makeInformer } from '@kubernetes/client-node';
import type { Informer, KubeConfig, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeApiFailure } from './api-failure.js';

/** How long a failed list or watch waits before the informer starts again. */
const RESTART_DELAY_MS = 1_000;

/** What to follow: a kind, optionally in one namespace and with a label selector. */
export interface WatchedKind {
  apiVersion: string;
  kind: string;
  /** The REST path of the collection, e.g. `/apis/apps/v1/namespaces/castellan/deployments`. */
  path: string;
  namespace?: string;
  labelSelector?: string;
}

/** A started informer: its cache, and a promise that resolves after its first complete list. */
export interface FollowedKind<T extends KubernetesObject> {
  cache: ObjectCache<T>;
  synced: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Lists and watches one kind with client-node's informer, calling `onChange` with every object
 * added, updated or deleted. client-node relists on 410 Gone by itself, but stops for good after
 * any other error (a dropped connection, an API server restart): this restarts it after a pause.
 */
export function follow<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  watched: WatchedKind,
  onChange: (object: T) => void,
  logger: Logger,
): FollowedKind<T> {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const list = () =>
    objects.list<T>(
      watched.apiVersion,
      watched.kind,
      watched.namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      watched.labelSelector,
    );
  const informer: Informer<T> & ObjectCache<T> = makeInformer(
    kubeConfig,
    watched.path,
    list,
    watched.labelSelector,
  );
  let stopped = false;
  let restart: NodeJS.Timeout | undefined;
  let markSynced!: () => void;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  informer.on('add', onChange);
  informer.on('update', onChange);
  informer.on('delete', onChange);
  let failures = 0;
  informer.on('error', (error: unknown) => {
    failures += 1;
    if (stopped) return;
    logger.warn(
      { kind: watched.kind, reason: describeApiFailure(error) },
      'list/watch failed; starting again',
    );
    clearTimeout(restart);
    restart = setTimeout(() => void start(), RESTART_DELAY_MS);
  });
  const start = async (): Promise<void> => {
    if (stopped) return;
    const failuresBefore = failures;
    try {
      await informer.start();
    } catch {
      // The error handler above has scheduled the next attempt.
    }
    // start() resolves once the list is cached and the watch open, or after reporting an error.
    if (failures === failuresBefore) markSynced();
  };
  void start();
  return {
    cache: informer,
    synced,
    async stop() {
      stopped = true;
      clearTimeout(restart);
      await informer.stop();
    },
  };
}
