import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseBusAuthority } from '@castellan/bus-auth';
import type { BusAuthority } from '@castellan/bus-auth';
import { messageOf } from '@castellan/proto';
import { EnvReader } from '@castellan/service-host';
import type { Environment, ServiceConfig } from '@castellan/service-host';
import { ReconcilerError, ReconcilerErrorCode } from './errors.js';
import { parseImageReference, parseRepository, repositoryOf } from './image-reference.js';

/** Defaults of the reconciler's configuration (documented in services/reconciler/README.md). */
export const DEFAULT_NAMESPACE = 'castellan';
export const DEFAULT_LEASE = 'castellan-reconciler';
/** client-go's default lease duration. */
export const DEFAULT_LEASE_DURATION_SECONDS = 15;
export const DEFAULT_READINESS_PORT = 8081;
/** Every pool is reconciled again this often even when nothing changed (repairs drift). */
export const DEFAULT_RESYNC_SECONDS = 300;
/** How often the certificates are checked for rotation (Kubewarden: 12 h). */
export const DEFAULT_CERTIFICATE_CHECK_SECONDS = 12 * 60 * 60;

export interface ReconcilerConfig extends ServiceConfig {
  /** The namespace Castellan runs in: gateway, evaluator Deployments, Secrets, Lease. */
  readonly namespace: string;
  readonly leaderElect: boolean;
  readonly leaseName: string;
  /** How long a silent leader keeps the Lease before a standby takes over. */
  readonly leaseDurationSeconds: number;
  /** This replica's name in the Lease. */
  readonly identity: string;
  readonly gatewayService: string;
  /**
   * Where the API server calls the gateway (`CASTELLAN_GATEWAY_URL`, https, no path) instead of
   * through its Service: a gateway outside the cluster, or a test API server that cannot reach
   * Services. Its host is added to the serving certificate.
   */
  readonly gatewayUrl: URL | undefined;
  readonly gatewayTlsSecret: string;
  readonly caSecret: string;
  readonly evaluatorServiceAccount: string;
  /** The Castellan image, run in place of Kubewarden's policy-server image. */
  readonly evaluatorImage: string | undefined;
  /**
   * Repositories (`host[:port]/path`, normalised) a PolicyServer's `spec.image` may come from;
   * empty when neither it nor `evaluatorImage` is configured, and then every image is refused.
   */
  readonly allowedImageRepositories: readonly string[];
  /** Plain-HTTP port of `GET /readiness`; 0 picks a free one. */
  readonly readinessPort: number;
  readonly resyncSeconds: number;
  readonly certificateCheckSeconds: number;
  /**
   * The NATS signing keys (`CASTELLAN_NATS_AUTHORITY_FILE`) each pool's credentials are minted
   * with. Secret: never logged.
   */
  readonly natsAuthority: BusAuthority;
}

/** Reads `CASTELLAN_*` variables once, reporting every problem together. */
export function loadReconcilerConfig(env: Environment): ReconcilerConfig {
  const reader = new EnvReader(env);
  const evaluatorImage = reader.optional('CASTELLAN_EVALUATOR_IMAGE');
  const config: ReconcilerConfig = {
    ...reader.serviceConfig(),
    namespace: reader.string('CASTELLAN_NAMESPACE', DEFAULT_NAMESPACE),
    leaderElect: reader.boolean('CASTELLAN_LEADER_ELECT', false),
    leaseName: reader.string('CASTELLAN_LEADER_ELECTION_LEASE', DEFAULT_LEASE),
    leaseDurationSeconds: reader.positiveInteger(
      'CASTELLAN_LEADER_ELECTION_LEASE_SECONDS',
      DEFAULT_LEASE_DURATION_SECONDS,
    ),
    identity: reader.string('CASTELLAN_IDENTITY', `${hostname()}-${process.pid}`),
    gatewayService: reader.string('CASTELLAN_GATEWAY_SERVICE', 'castellan-gateway'),
    gatewayUrl: gatewayUrl(reader),
    gatewayTlsSecret: reader.string('CASTELLAN_GATEWAY_TLS_SECRET', 'castellan-gateway-tls'),
    caSecret: reader.string('CASTELLAN_CA_SECRET', 'castellan-ca'),
    evaluatorServiceAccount: reader.string('CASTELLAN_EVALUATOR_SERVICE_ACCOUNT', 'castellan-evaluator'),
    evaluatorImage,
    allowedImageRepositories: allowedImageRepositories(reader, evaluatorImage),
    readinessPort: reader.port('CASTELLAN_READINESS_PORT', DEFAULT_READINESS_PORT),
    resyncSeconds: reader.positiveInteger('CASTELLAN_RESYNC_SECONDS', DEFAULT_RESYNC_SECONDS),
    certificateCheckSeconds: reader.positiveInteger(
      'CASTELLAN_CERTIFICATE_CHECK_SECONDS',
      DEFAULT_CERTIFICATE_CHECK_SECONDS,
    ),
    natsAuthority: natsAuthority(reader),
  };
  reader.check('reconciler', (message) => new ReconcilerError(ReconcilerErrorCode.ConfigInvalid, message));
  return Object.freeze(config);
}

/**
 * The authority.json named by `CASTELLAN_NATS_AUTHORITY_FILE` (the Secret castellan-nats-authority,
 * mounted). When it cannot be used, the problem is recorded and the value returned is never used.
 */
function natsAuthority(reader: EnvReader): BusAuthority {
  const name = 'CASTELLAN_NATS_AUTHORITY_FILE';
  const problemsBefore = reader.problems.length;
  const path = reader.readableFile(name, 'the NATS signing keys evaluator credentials are minted with');
  const unusable = { operatorSeed: '', systemAccountSeed: '', accountSeed: '' };
  if (reader.problems.length > problemsBefore) return unusable;
  try {
    return parseBusAuthority(readFileSync(path, 'utf8'), path);
  } catch (error) {
    reader.problems.push(`${name}: ${messageOf(error)}`);
    return unusable;
  }
}

/** `CASTELLAN_GATEWAY_URL`: an https URL with nothing after the host and port. */
function gatewayUrl(reader: EnvReader): URL | undefined {
  const name = 'CASTELLAN_GATEWAY_URL';
  const value = reader.optional(name);
  if (value === undefined) return undefined;
  const url = URL.parse(value);
  if (url === null) {
    reader.problems.push(`${name}: "${value}" is not a URL`);
  } else if (url.protocol !== 'https:') {
    reader.problems.push(`${name}: "${value}" must be https: the API server calls webhooks over TLS only`);
  } else if (
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.pathname !== '/'
  ) {
    reader.problems.push(
      `${name}: "${value}" must be only https://host[:port]: each webhook appends /validate/<policy>`,
    );
  } else {
    return url;
  }
  return undefined;
}

/**
 * `CASTELLAN_RECONCILER_ALLOWED_IMAGE_REPOSITORIES` (comma-separated), by default the repository of
 * `CASTELLAN_EVALUATOR_IMAGE`. An explicit list must hold that repository too: the reconciler runs
 * the evaluator image in place of Kubewarden's.
 */
function allowedImageRepositories(reader: EnvReader, evaluatorImage: string | undefined): string[] {
  let ownRepository: string | undefined;
  if (evaluatorImage !== undefined) {
    try {
      ownRepository = repositoryOf(parseImageReference(evaluatorImage));
    } catch (error) {
      reader.problems.push(`CASTELLAN_EVALUATOR_IMAGE: ${messageOf(error)}`);
    }
  }
  const name = 'CASTELLAN_RECONCILER_ALLOWED_IMAGE_REPOSITORIES';
  const listed = reader.optional(name);
  if (listed === undefined) return ownRepository !== undefined ? [ownRepository] : [];
  const repositories: string[] = [];
  for (const entry of listed.split(',').map((item) => item.trim())) {
    try {
      if (entry !== '') repositories.push(parseRepository(entry));
    } catch (error) {
      reader.problems.push(`${name}: ${messageOf(error)}`);
    }
  }
  if (repositories.length === 0) reader.problems.push(`${name} is set but names no repository`);
  if (ownRepository !== undefined && !repositories.includes(ownRepository)) {
    reader.problems.push(
      `${name} must include ${ownRepository}, the repository of CASTELLAN_EVALUATOR_IMAGE`,
    );
  }
  return repositories;
}
