import { V1MicroTime } from '@kubernetes/client-node';
import type { CoordinationV1Api, V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiFailureOf, describeApiFailure } from './api-failure.js';
import { ReconcilerError, ReconcilerErrorCode } from './errors.js';

/** How long a Lease stays valid after its last renewal (client-go's default). */
export const DEFAULT_LEASE_DURATION_MS = 15_000;
/** How often the leader renews, and a standby tries to acquire (client-go's retry period). */
export const DEFAULT_RENEW_INTERVAL_MS = 2_000;
/** Standbys wait up to 20 % longer than the interval, so candidates that race spread apart (client-go's jitter). */
const STANDBY_JITTER = 0.2;

/** Options of a {@link LeaderElector}. */
export interface LeaderElectionOptions {
  coordination: CoordinationV1Api;
  /** Namespace of the Lease. */
  namespace: string;
  leaseName: string;
  /** This replica's name in `spec.holderIdentity`; unique among the candidates. */
  identity: string;
  /** Default {@link DEFAULT_LEASE_DURATION_MS}; written to the Lease in whole seconds, rounded up. */
  leaseDurationMs?: number;
  /** Default {@link DEFAULT_RENEW_INTERVAL_MS}; at most half the lease duration. */
  renewIntervalMs?: number;
  logger: Logger;
  /** The wall clock in ms (default `Date.now`); timers always run on real time. */
  now?: () => number;
}

/** What a {@link LeaderElector} tells its owner. */
export interface LeadershipCallbacks {
  /** Leadership was won: start the work only one replica may do. */
  onStartedLeading(): void;
  /** Leadership was lost or given up: stop that work at once, another replica may start it. */
  onStoppedLeading(): void;
}

/**
 * Lease-based leader election, as client-go's leaderelection does it on a coordination.k8s.io/v1
 * Lease. A standby takes the Lease over only once the holder's record has not changed for the
 * record's `leaseDurationSeconds` as observed on this process's clock (remote timestamps are never
 * compared with the local clock). Every write carries the resourceVersion it was computed from,
 * so of two candidates racing for the Lease one gets 409 Conflict and stays a standby. A leader
 * that cannot renew steps down one renew interval before a standby may take over.
 */
export class LeaderElector {
  readonly #coordination: CoordinationV1Api;
  readonly #namespace: string;
  readonly #leaseName: string;
  readonly #identity: string;
  readonly #leaseDurationSeconds: number;
  readonly #renewIntervalMs: number;
  /** A leader that has not renewed for this long steps down. */
  readonly #renewDeadlineMs: number;
  readonly #logger: Logger;
  readonly #now: () => number;

  #callbacks: LeadershipCallbacks | undefined;
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #attempt: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #leading = false;
  /** Local time just before the last successful renewal, the start of the renew deadline. */
  #renewedAt = 0;
  /** The Lease as last read or written, for the resourceVersion of the next write. */
  #lease: V1Lease | undefined;
  /** The last Lease spec seen, serialised, and the local time it was first seen. */
  #observedSpec = '';
  #observedAt = 0;

  constructor(options: LeaderElectionOptions) {
    const leaseDurationMs = options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    const renewIntervalMs = options.renewIntervalMs ?? DEFAULT_RENEW_INTERVAL_MS;
    if (!(renewIntervalMs > 0) || !(renewIntervalMs * 2 <= leaseDurationMs)) {
      throw new ReconcilerError(
        ReconcilerErrorCode.LeaderElectionInvalid,
        `leader election on Lease ${options.namespace}/${options.leaseName}: the renew interval ` +
          `(${renewIntervalMs} ms) must be positive and at most half the lease duration ` +
          `(${leaseDurationMs} ms), so that a leader can miss a renewal without losing the Lease`,
      );
    }
    this.#coordination = options.coordination;
    this.#namespace = options.namespace;
    this.#leaseName = options.leaseName;
    this.#identity = options.identity;
    this.#leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);
    this.#renewIntervalMs = renewIntervalMs;
    this.#renewDeadlineMs = leaseDurationMs - renewIntervalMs;
    this.#logger = options.logger.child({
      lease: `${options.namespace}/${options.leaseName}`,
      identity: options.identity,
    });
    this.#now = options.now ?? Date.now;
  }

  /**
   * Campaigns until stopped; calls onStartedLeading once leadership is won, onStoppedLeading when
   * it is lost (renewal failed past the renew deadline, or another holder took it). After a loss it
   * goes on as a standby, so the pair may be called again. Call once, and not after stop().
   */
  start(callbacks: LeadershipCallbacks): void {
    if (this.#callbacks || this.#stopping) {
      throw new ReconcilerError(
        ReconcilerErrorCode.LeaderElectionInvalid,
        `leader election on Lease ${this.#namespace}/${this.#leaseName}: an elector campaigns once; ` +
          'start() was already called or the elector was stopped',
      );
    }
    this.#callbacks = callbacks;
    this.#schedule(0);
  }

  /** Whether this replica leads now: it won, and its last renewal is within the renew deadline. */
  get isLeader(): boolean {
    return this.#leading && this.#now() - this.#renewedAt < this.#renewDeadlineMs;
  }

  /**
   * Stops campaigning; a leader releases the Lease (clears holderIdentity, sets
   * leaseDurationSeconds 1) so a standby takes over at once. onStoppedLeading is not called: the
   * caller asked, and must have stopped the work that needs leadership before calling this.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutDown();
    return this.#stopping;
  }

  async #shutDown(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#attempt;
    clearTimeout(this.#deadline);
    this.#leading = false;
    if (this.#observedHolder() === this.#identity) await this.#release();
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#attempt = this.#campaign();
    }, delayMs);
  }

  async #campaign(): Promise<void> {
    const startedAt = this.#now();
    try {
      if (await this.#acquireOrRenew(startedAt)) this.#renewed(startedAt);
      // A lost write race alone is retried until the renew deadline; another holder is final.
      else if (this.#leading && this.#observedHolder() !== this.#identity)
        this.#stepDown(`the Lease is held by "${this.#observedHolder()}"`);
    } catch (error) {
      this.#logger.warn(
        { reason: describeApiFailure(error) },
        this.#leading ? 'renewing the Lease failed' : 'reading or acquiring the Lease failed',
      );
    } finally {
      if (!this.#stopping) {
        const jitter = this.#leading ? 0 : Math.random() * STANDBY_JITTER;
        this.#schedule(this.#renewIntervalMs * (1 + jitter));
      }
    }
  }

  /** One round of client-go's tryAcquireOrRenew: whether this replica holds the Lease after it. */
  async #acquireOrRenew(now: number): Promise<boolean> {
    let lease: V1Lease;
    try {
      lease = await this.#coordination.readNamespacedLease({
        name: this.#leaseName,
        namespace: this.#namespace,
      });
    } catch (error) {
      if (apiFailureOf(error)?.code !== 404) throw error;
      return this.#write(now, () =>
        this.#coordination.createNamespacedLease({
          namespace: this.#namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.#leaseName, namespace: this.#namespace },
            spec: this.#heldSpec({}, now, false),
          },
        }),
      );
    }
    this.#observe(lease, now);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const validUntil = this.#observedAt + (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== this.#identity && now < validUntil) return false;
    const takeover = holder !== this.#identity;
    return this.#write(now, () =>
      this.#coordination.replaceNamespacedLease({
        name: this.#leaseName,
        namespace: this.#namespace,
        body: { ...lease, spec: this.#heldSpec(spec, now, takeover) },
      }),
    );
  }

  /** The spec of a Lease held by this replica; a takeover restarts acquireTime and counts a transition. */
  #heldSpec(current: V1LeaseSpec, now: number, takeover: boolean): V1LeaseSpec {
    const transitions = current.leaseTransitions ?? 0;
    return {
      ...current,
      holderIdentity: this.#identity,
      leaseDurationSeconds: this.#leaseDurationSeconds,
      // A plain Date would serialise with milliseconds, which the API server refuses for MicroTime.
      acquireTime: !takeover && current.acquireTime ? current.acquireTime : new V1MicroTime(now),
      renewTime: new V1MicroTime(now),
      leaseTransitions: takeover ? transitions + 1 : transitions,
    };
  }

  /** Runs a create or replace of the Lease; a 409 means another candidate wrote first. */
  async #write(now: number, request: () => Promise<V1Lease>): Promise<boolean> {
    try {
      this.#observe(await request(), now);
      return true;
    } catch (error) {
      if (apiFailureOf(error)?.code !== 409) throw error;
      this.#logger.debug({ reason: describeApiFailure(error) }, 'another candidate wrote the Lease first');
      return false;
    }
  }

  /** Remembers the Lease, and when its spec was last seen to change (client-go's observedTime). */
  #observe(lease: V1Lease, now: number): void {
    this.#lease = lease;
    const spec = JSON.stringify(lease.spec ?? {});
    if (spec !== this.#observedSpec) {
      this.#observedSpec = spec;
      this.#observedAt = now;
    }
  }

  #observedHolder(): string {
    return this.#lease?.spec?.holderIdentity ?? '';
  }

  #renewed(at: number): void {
    this.#renewedAt = at;
    clearTimeout(this.#deadline);
    const remainingMs = at + this.#renewDeadlineMs - this.#now();
    this.#deadline = setTimeout(
      () => this.#stepDown(`the Lease was not renewed for ${this.#renewDeadlineMs} ms`),
      remainingMs,
    );
    if (this.#leading || this.#stopping) return;
    this.#leading = true;
    this.#logger.info('became the leader');
    this.#notify('onStartedLeading');
  }

  #stepDown(reason: string): void {
    clearTimeout(this.#deadline);
    if (!this.#leading) return;
    this.#leading = false;
    this.#logger.info({ reason }, 'stopped leading');
    this.#notify('onStoppedLeading');
  }

  #notify(event: keyof LeadershipCallbacks): void {
    try {
      this.#callbacks?.[event]();
    } catch (error) {
      this.#logger.error({ err: error }, `${event} failed`);
    }
  }

  /** client-go's release: an empty holder with a 1 s duration, so a standby need not wait. */
  async #release(): Promise<void> {
    const lease = this.#lease;
    if (!lease) return;
    const now = new V1MicroTime(this.#now());
    try {
      await this.#coordination.replaceNamespacedLease({
        name: this.#leaseName,
        namespace: this.#namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
          },
        },
      });
      this.#logger.info('released the Lease');
    } catch (error) {
      // The Lease then expires after its duration; a 409 means another candidate already took it.
      this.#logger.warn({ reason: describeApiFailure(error) }, 'releasing the Lease failed');
    }
  }
}
