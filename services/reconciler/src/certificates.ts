import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { createCertificateAuthority, issueCertificate } from '@castellan/pki';
import type { CertificateAndKey } from '@castellan/pki';
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiFailureOf, describeApiFailure } from './api-failure.js';
import type { CertificateFault, CheckTime, GatewayHosts } from './certificate-checks.js';
import { authorityFault, previousAuthorityFault, servingCertificateFault } from './certificate-checks.js';
import { ReconcilerError, ReconcilerErrorCode } from './errors.js';
import { PART_OF_LABEL } from './webhook-configuration.js';

/** Kubewarden's validity periods (docs/kubewarden-compatibility.md#certificates). */
export const CA_VALIDITY_DAYS = 3650;
export const SERVING_CERTIFICATE_VALIDITY_DAYS = 365;
/** A certificate expiring within this many days is replaced (Kubewarden's look-ahead). */
export const DEFAULT_RENEW_BEFORE_DAYS = 60;
export const CA_COMMON_NAME = 'castellan-ca';

/** Keys of the CA Secret; `old-ca.crt` is present only during a rotation. */
const CA_CERT = 'ca.crt';
const CA_KEY = 'ca.key';
const OLD_CA_CERT = 'old-ca.crt';
const TLS_SECRET_TYPE = 'kubernetes.io/tls';

/** Labels of the Secrets the reconciler writes. */
const SECRET_LABELS = { ...PART_OF_LABEL, 'app.kubernetes.io/managed-by': 'castellan-reconciler' };

/** Options of a {@link CertificateManager}. */
export interface CertificateOptions {
  core: CoreV1Api;
  /** Castellan's namespace: both Secrets and the gateway Service live there. */
  namespace: string;
  caSecret: string;
  gatewayTlsSecret: string;
  gatewayService: string;
  /** Where the API server calls the gateway instead of its Service; its host goes into the certificate. */
  gatewayUrl?: URL | undefined;
  logger: Logger;
  now?: () => Date;
  /** Default {@link DEFAULT_RENEW_BEFORE_DAYS}. */
  renewBeforeDays?: number;
}

/** What the webhooks need to trust the gateway. */
export interface WebhookTls {
  /** PEM bundle for every webhook's caBundle: the current CA, then the old one during rotation. */
  caBundlePem: string;
  /** true when this call changed a Secret */
  changed: boolean;
}

/** The CA to sign with, and the previous one webhooks keep trusting during a rotation. */
interface Authorities {
  current: CertificateAndKey;
  previousPem: string | undefined;
}

/** A Secret's data, decoded to text (PEM). */
type SecretText = Record<string, string | undefined>;

function decoded(secret: V1Secret | undefined): SecretText {
  const data = secret?.data ?? {};
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
  );
}

function encoded(text: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(text).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]),
  );
}

/** A PEM as a file holds it: ending in one newline, so that concatenated PEMs stay a bundle. */
function pemFile(pem: string): string {
  return `${pem.trimEnd()}\n`;
}

/** Freshly made material, stored the way it is bundled: without rotation, caBundle is ca.crt. */
function asFiles({ certPem, keyPem }: CertificateAndKey): CertificateAndKey {
  return { certPem: pemFile(certPem), keyPem: pemFile(keyPem) };
}

function isConflict(error: unknown): error is ReconcilerError {
  return error instanceof ReconcilerError && apiFailureOf(error.cause)?.code === 409;
}

/**
 * Owns the webhook TLS of Castellan (docs/kubewarden-compatibility.md#certificates): a CA Secret (`ca.crt`, `ca.key`, and `old-ca.crt`
 * while a rotation is under way) and the gateway's `kubernetes.io/tls` serving-certificate Secret,
 * ECDSA P-256, for the gateway Service's DNS names. A CA expiring within the renewal window is
 * replaced, the previous one kept until it expires; the serving certificate is re-issued when it
 * does not verify against the current CA, is expiring, or names other hosts. Broken Secrets are
 * repaired. Every update carries the resourceVersion read.
 */
export class CertificateManager {
  readonly #core: CoreV1Api;
  readonly #namespace: string;
  readonly #caSecret: string;
  readonly #tlsSecret: string;
  readonly #gatewayService: string;
  readonly #gatewayUrl: URL | undefined;
  readonly #logger: Logger;
  readonly #now: () => Date;
  readonly #renewBeforeDays: number;

  constructor(options: CertificateOptions) {
    this.#core = options.core;
    this.#namespace = options.namespace;
    this.#caSecret = options.caSecret;
    this.#tlsSecret = options.gatewayTlsSecret;
    this.#gatewayService = options.gatewayService;
    this.#gatewayUrl = options.gatewayUrl;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => new Date());
    this.#renewBeforeDays = options.renewBeforeDays ?? DEFAULT_RENEW_BEFORE_DAYS;
  }

  /**
   * Creates or repairs both Secrets (idempotent: a second call writes nothing); returns the
   * caBundle. A write that meets a concurrent change (409) is redone once from a fresh read.
   */
  async ensure(): Promise<WebhookTls> {
    const writes = { count: 0 };
    try {
      return await this.#reconcile(writes);
    } catch (error) {
      if (!isConflict(error)) throw error;
      this.#logger.info(
        { reason: error.message },
        'a certificate Secret changed meanwhile: reading it again',
      );
    }
    try {
      return await this.#reconcile(writes);
    } catch (error) {
      if (!isConflict(error)) throw error;
      throw new ReconcilerError(
        ReconcilerErrorCode.CertificateSecretFailed,
        `${error.message} (it changed again after being re-read: is another controller writing it?)`,
        { cause: error.cause },
      );
    }
  }

  async #reconcile(writes: { count: number }): Promise<WebhookTls> {
    const time: CheckTime = { now: this.#now(), renewBeforeDays: this.#renewBeforeDays };
    const [caSecret, tlsSecret] = await Promise.all([
      this.#read(this.#caSecret),
      this.#read(this.#tlsSecret),
    ]);
    const authorities = await this.#authorities(caSecret, time);
    const caText = {
      [CA_CERT]: authorities.current.certPem,
      [CA_KEY]: authorities.current.keyPem,
      ...(authorities.previousPem !== undefined ? { [OLD_CA_CERT]: authorities.previousPem } : {}),
    };
    if (await this.#write(this.#caSecret, caSecret, caText, [CA_CERT, CA_KEY, OLD_CA_CERT]))
      writes.count += 1;
    const serving = await this.#servingCertificate(tlsSecret, authorities.current, time);
    const tlsText = { 'tls.crt': serving.certPem, 'tls.key': serving.keyPem };
    if (await this.#write(this.#tlsSecret, tlsSecret, tlsText, ['tls.crt', 'tls.key'], TLS_SECRET_TYPE))
      writes.count += 1;
    const bundle = [authorities.current.certPem, authorities.previousPem].filter((pem) => pem !== undefined);
    return { caBundlePem: bundle.map(pemFile).join(''), changed: writes.count > 0 };
  }

  /** The CA Secret's authority if it can go on signing; else a new one, the old kept while valid. */
  async #authorities(secret: V1Secret | undefined, time: CheckTime): Promise<Authorities> {
    const text = decoded(secret);
    const certPem = text[CA_CERT];
    const keyPem = text[CA_KEY];
    const fault = secret && authorityFault({ certPem, keyPem }, time);
    if (secret && !fault && certPem !== undefined && keyPem !== undefined) {
      return {
        current: { certPem, keyPem },
        previousPem: this.#previousAuthority(text[OLD_CA_CERT], time.now),
      };
    }
    this.#logReplacement(this.#caSecret, fault, 'the CA');
    const current = asFiles(
      await createCertificateAuthority({
        commonName: CA_COMMON_NAME,
        validityDays: CA_VALIDITY_DAYS,
        issuedAt: time.now,
      }),
    );
    // Webhooks still trust the outgoing CA: keep it in the bundle while it is valid.
    const outgoing =
      certPem !== undefined && !previousAuthorityFault(certPem, time.now) ? certPem : undefined;
    return { current, previousPem: outgoing };
  }

  /** `old-ca.crt` if still valid; an expired or unreadable one is dropped. */
  #previousAuthority(certPem: string | undefined, now: Date): string | undefined {
    if (certPem === undefined) return undefined;
    const fault = previousAuthorityFault(certPem, now);
    if (!fault) return certPem;
    this.#logger.info(
      { secret: this.#qualified(this.#caSecret), reason: fault.reason },
      'dropping the previous CA',
    );
    return undefined;
  }

  async #servingCertificate(
    secret: V1Secret | undefined,
    authority: CertificateAndKey,
    time: CheckTime,
  ): Promise<CertificateAndKey> {
    const text = decoded(secret);
    const certPem = text['tls.crt'];
    const keyPem = text['tls.key'];
    const hosts = this.#hosts();
    const fault = secret && servingCertificateFault({ certPem, keyPem }, authority.certPem, hosts, time);
    if (secret && !fault && certPem !== undefined && keyPem !== undefined) return { certPem, keyPem };
    this.#logReplacement(this.#tlsSecret, fault, "the gateway's serving certificate");
    return asFiles(
      await issueCertificate(authority, {
        commonName: `${this.#gatewayService}.${this.#namespace}.svc`,
        dnsNames: [...hosts.dnsNames],
        ipAddresses: [...hosts.ipAddresses],
        validityDays: SERVING_CERTIFICATE_VALIDITY_DAYS,
        issuedAt: time.now,
      }),
    );
  }

  /** The names the API server may use for the gateway Service, and the gateway URL's host. */
  #hosts(): GatewayHosts {
    const service = this.#gatewayService;
    const namespace = this.#namespace;
    const dnsNames = [
      service,
      `${service}.${namespace}`,
      `${service}.${namespace}.svc`,
      `${service}.${namespace}.svc.cluster.local`,
    ];
    // URL keeps the brackets of an IPv6 host.
    const urlHost = this.#gatewayUrl?.hostname.replace(/^\[(.*)\]$/, '$1');
    if (urlHost === undefined) return { dnsNames, ipAddresses: [] };
    return isIP(urlHost)
      ? { dnsNames, ipAddresses: [urlHost] }
      : { dnsNames: [...dnsNames, urlHost], ipAddresses: [] };
  }

  #logReplacement(secret: string, fault: CertificateFault | undefined, what: string): void {
    const fields = { secret: this.#qualified(secret), ...(fault ? { reason: fault.reason } : {}) };
    if (!fault) this.#logger.info(fields, `creating ${what}: the Secret does not exist`);
    else if (fault.broken) this.#logger.warn(fields, `the Secret is broken: repairing ${what}`);
    else this.#logger.info(fields, `renewing ${what}`);
  }

  async #read(name: string): Promise<V1Secret | undefined> {
    try {
      return await this.#core.readNamespacedSecret({ name, namespace: this.#namespace });
    } catch (error) {
      if (apiFailureOf(error)?.code === 404) return undefined;
      throw this.#failure('reading', name, error);
    }
  }

  /**
   * Makes the Secret hold `text` under the keys the reconciler owns (other keys are left alone):
   * creates it, replaces it at the resourceVersion read, or, when its type is not `type` (which the
   * API server never lets change), deletes and recreates it. Returns whether it wrote.
   */
  async #write(
    name: string,
    current: V1Secret | undefined,
    text: Record<string, string>,
    ownedKeys: readonly string[],
    type?: string,
  ): Promise<boolean> {
    const data = encoded(text);
    if (current && type !== undefined && current.type !== type) {
      this.#logger.warn(
        { secret: this.#qualified(name), type: current.type },
        `the Secret is not of type ${type}: recreating it`,
      );
      await this.#send('deleting', name, () =>
        this.#core.deleteNamespacedSecret({
          name,
          namespace: this.#namespace,
          body: { preconditions: { resourceVersion: current.metadata?.resourceVersion } },
        }),
      );
      return this.#write(name, undefined, text, ownedKeys, type);
    }
    if (!current) {
      await this.#send('creating', name, () =>
        this.#core.createNamespacedSecret({
          namespace: this.#namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name, namespace: this.#namespace, labels: SECRET_LABELS },
            type: type ?? 'Opaque',
            data,
          },
        }),
      );
      return true;
    }
    const others = Object.entries(current.data ?? {}).filter(([key]) => !ownedKeys.includes(key));
    const next = { ...Object.fromEntries(others), ...data };
    if (isDeepStrictEqual(next, current.data ?? {})) return false;
    await this.#send('replacing', name, () =>
      this.#core.replaceNamespacedSecret({
        name,
        namespace: this.#namespace,
        body: {
          ...current,
          metadata: { ...current.metadata, labels: { ...current.metadata?.labels, ...SECRET_LABELS } },
          data: next,
        },
      }),
    );
    return true;
  }

  async #send(verb: string, name: string, request: () => Promise<unknown>): Promise<void> {
    try {
      await request();
    } catch (error) {
      throw this.#failure(verb, name, error);
    }
  }

  #failure(verb: string, name: string, error: unknown): ReconcilerError {
    return new ReconcilerError(
      ReconcilerErrorCode.CertificateSecretFailed,
      `${verb} Secret ${this.#qualified(name)} failed: ${describeApiFailure(error)}`,
      { cause: error },
    );
  }

  #qualified(name: string): string {
    return `${this.#namespace}/${name}`;
  }
}
