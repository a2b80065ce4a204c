import { readFileSync } from 'node:fs';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
export const DEFAULT_JETSTREAM_REPLICAS = 1;

/** What every service reads: where NATS is, how its buckets are replicated, how much to log. */
export interface ServiceConfig {
  /** NATS servers, comma-separated. */
  readonly natsUrl: string;
  /**
   * Replicas of the JetStream buckets (3 in production). Every service creates the buckets it
   * uses if they are missing, so all must agree: JetStream refuses a bucket re-created with
   * another configuration.
   */
  readonly jetstreamReplicas: number;
  readonly logLevel: LogLevel;
  /** The `.creds` file (user JWT and seed) this service authenticates to NATS with. */
  readonly natsCredentialsFile: string;
  /** The CA that signed the NATS servers' certificates: every connection is TLS. */
  readonly natsCaFile: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads `CASTELLAN_*` variables for a service's `loadConfig`: every reader records a problem
 * instead of throwing, so the service can report all of them at once (`problems`).
 */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Environment) {}

  /** The trimmed value, or undefined when unset or empty. */
  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  required(name: string, what: string): string {
    const value = this.optional(name);
    if (value === undefined) this.problems.push(`${name} is required: ${what}`);
    return value ?? '';
  }

  positiveInteger(name: string, fallback: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < 1) {
      this.problems.push(`${name} must be a positive integer (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  port(name: string, fallback: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value > 65_535) {
      this.problems.push(`${name} must be a port number between 0 and 65535 (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  /** `true`/`false` (also `1`/`0`, `yes`/`no`), any case. */
  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = raw.toLowerCase();
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    this.problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(name, fallback);
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
    return fallback;
  }

  /**
   * A file this process can read, named by a required variable; when `holds` is given, the file
   * must also contain that PEM-style block (a credentials file that is not one fails here, with
   * its name, rather than as a connection that never succeeds).
   */
  readableFile(name: string, what: string, holds?: string): string {
    const path = this.required(name, what);
    if (path === '') return path;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      this.problems.push(
        `${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${what}`,
      );
      return path;
    }
    if (holds !== undefined && !text.includes(`-----BEGIN ${holds}-----`)) {
      this.problems.push(`${name}: ${path} holds no ${holds}: ${what}`);
    }
    return path;
  }

  /**
   * `CASTELLAN_NATS_URL`, `CASTELLAN_JETSTREAM_REPLICAS`, `CASTELLAN_LOG_LEVEL`, and the NATS
   * credentials and CA (`CASTELLAN_NATS_CREDS`, `CASTELLAN_NATS_CA`), which are required.
   */
  serviceConfig(): ServiceConfig {
    const natsUrl = this.string('CASTELLAN_NATS_URL', DEFAULT_NATS_URL);
    for (const server of natsServers(natsUrl)) {
      if (!/^(nats|tls|wss?):\/\/[^\s/]+$|^[^\s/:]+(:\d+)?$/.test(server)) {
        this.problems.push(
          `CASTELLAN_NATS_URL must list NATS servers like nats://host:4222 (got "${server}")`,
        );
      }
    }
    return {
      natsUrl,
      jetstreamReplicas: this.positiveInteger('CASTELLAN_JETSTREAM_REPLICAS', DEFAULT_JETSTREAM_REPLICAS),
      logLevel: this.oneOf('CASTELLAN_LOG_LEVEL', LOG_LEVELS, DEFAULT_LOG_LEVEL),
      natsCredentialsFile: this.readableFile(
        'CASTELLAN_NATS_CREDS',
        "this service's NATS credentials (a .creds file)",
        'NATS USER JWT',
      ),
      natsCaFile: this.readableFile(
        'CASTELLAN_NATS_CA',
        "the CA of the NATS servers' certificates (PEM)",
        'CERTIFICATE',
      ),
    };
  }

  /** Throws the error `fail` builds from every problem found, if any. */
  check(service: string, fail: (message: string) => Error): void {
    if (this.problems.length > 0) {
      throw fail(`invalid ${service} configuration:\n  - ${this.problems.join('\n  - ')}`);
    }
  }
}

export function natsServers(natsUrl: string): string[] {
  return natsUrl
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server !== '');
}
