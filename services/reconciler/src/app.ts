import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { CertificateManager } from './certificates.js';
import type { ReconcilerConfig } from './config.js';
import { Controller } from './controller.js';
import { DEFAULT_RENEW_INTERVAL_MS, LeaderElector } from './leader-election.js';

export interface ReconcilerDeps {
  nc: NatsConnection;
  kubeConfig: KubeConfig;
  config: ReconcilerConfig;
  logger: Logger;
  /** Called when this replica loses the lead: it must stop acting (main exits so it restarts clean). */
  onLeadershipLost: () => void;
}

export interface Reconciler {
  /** Resolves once `/readiness` is served (and, without leader election, once reconciling). */
  ready: Promise<void>;
  /** The port `/readiness` is served on. */
  readinessPort(): number;
  stop(): Promise<void>;
}

/**
 * The reconciler's composition: a `/readiness` endpoint, and the controller, run at once or only
 * while this replica holds the Lease. A standby replica reports ready: it is healthy, just not
 * leading.
 */
export function buildReconciler({
  nc,
  kubeConfig,
  config,
  logger,
  onLeadershipLost,
}: ReconcilerDeps): Reconciler {
  const certificates = new CertificateManager({
    core: kubeConfig.makeApiClient(CoreV1Api),
    namespace: config.namespace,
    caSecret: config.caSecret,
    gatewayTlsSecret: config.gatewayTlsSecret,
    gatewayService: config.gatewayService,
    gatewayUrl: config.gatewayUrl,
    logger,
  });
  const controller = new Controller({ kubeConfig, nc, config, certificates, logger });
  let controllerStarted = false;
  let elector: LeaderElector | undefined;
  const readiness: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://readiness.invalid').pathname;
    const ready = config.leaderElect ? !elector?.isLeader || controllerStarted : controllerStarted;
    response.writeHead(path !== '/readiness' ? 404 : ready ? 200 : 503, { 'content-length': 0 });
    response.end();
  });

  const startController = async (): Promise<void> => {
    await controller.start();
    controllerStarted = true;
  };

  const ready = (async () => {
    await new Promise<void>((resolve, reject) => {
      readiness.once('error', reject);
      readiness.listen(config.readinessPort, () => resolve());
    });
    if (!config.leaderElect) return startController();
    elector = new LeaderElector({
      coordination: kubeConfig.makeApiClient(CoordinationV1Api),
      namespace: config.namespace,
      leaseName: config.leaseName,
      identity: config.identity,
      leaseDurationMs: config.leaseDurationSeconds * 1000,
      // Renew well within the lease: client-go renews every 2 s on a 15 s lease.
      renewIntervalMs: Math.min(DEFAULT_RENEW_INTERVAL_MS, (config.leaseDurationSeconds * 1000) / 4),
      logger,
    });
    elector.start({
      onStartedLeading: () => {
        logger.info(
          { lease: config.leaseName, identity: config.identity },
          'leading: starting the controller',
        );
        startController().catch((error: unknown) => {
          logger.fatal({ err: error }, 'the controller could not start');
          onLeadershipLost();
        });
      },
      onStoppedLeading: () => {
        logger.error({ lease: config.leaseName }, 'lost the lead: stopping');
        onLeadershipLost();
      },
    });
  })();

  return {
    ready,
    readinessPort: () => (readiness.address() as AddressInfo).port,
    async stop() {
      await controller.stop();
      await elector?.stop();
      await new Promise<void>((resolve) => readiness.close(() => resolve()));
    },
  };
}
