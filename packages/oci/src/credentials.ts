import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runCredentialHelper } from './credential-helper.js';
import { helperServerUrl, normaliseServer, parseDockerConfig } from './docker-config.js';
import type { DockerConfig } from './docker-config.js';
import { messageOf } from '@castellan/proto';
import { OciError, OciErrorCode } from './errors.js';

/** A username and password (or registry token used as a password). */
export interface BasicCredentials {
  username: string;
  password: string;
}

/** Where registry credentials come from. */
export interface RegistryCredentials {
  /** Username/password for a registry `host[:port]`, or undefined for anonymous access. */
  lookup(registry: string): Promise<BasicCredentials | undefined>;
  /** Where the credentials live (a config.json path), named in authentication errors. */
  readonly origin: string;
}

/** No credentials: every registry is accessed anonymously. */
export const ANONYMOUS_CREDENTIALS: RegistryCredentials = Object.freeze({
  origin: 'the Docker config (none was loaded)',
  lookup: () => Promise.resolve(undefined),
});

/** Environment and warning sink of `loadDockerCredentials`. */
export interface DockerCredentialsOptions {
  /** Supplies `DOCKER_CONFIG`, `HOME` and the `PATH` credential helpers are found on; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Receives warnings (identity tokens are not supported); default `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

/**
 * Reads registry credentials from a Docker config directory
 * (docs/kubewarden-compatibility.md#registry-credentials): `dir` (the `--docker-config-json-path`), else
 * `$DOCKER_CONFIG`, else `~/.docker`. A missing config.json means anonymous access; a malformed one is an
 * error.
 */
export async function loadDockerCredentials(
  dir?: string,
  options: DockerCredentialsOptions = {},
): Promise<RegistryCredentials> {
  const env = options.env ?? process.env;
  const configDir = dir ?? env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
  const path = join(configDir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...ANONYMOUS_CREDENTIALS, origin: path };
    throw new OciError(
      OciErrorCode.DockerConfigInvalid,
      `cannot read Docker config ${path}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  const config = parseDockerConfig(text, path);
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message));
  return new DockerCredentials(config, path, env, warn);
}

/** Credentials from a parsed config.json; helpers run once per registry, then answers are cached. */
class DockerCredentials implements RegistryCredentials {
  readonly #cache = new Map<string, Promise<BasicCredentials | undefined>>();

  constructor(
    private readonly config: DockerConfig,
    readonly origin: string,
    private readonly env: Record<string, string | undefined>,
    private readonly warn: (message: string) => void,
  ) {}

  lookup(registry: string): Promise<BasicCredentials | undefined> {
    const key = normaliseServer(registry);
    let found = this.#cache.get(key);
    if (!found) {
      found = this.#find(registry, key);
      // A failed helper is not cached: the next pull asks again.
      found.catch(() => this.#cache.delete(key));
      this.#cache.set(key, found);
    }
    return found;
  }

  /** Lookup order of Kubewarden's docker_credential: credHelpers, then auths, then credsStore. */
  async #find(registry: string, key: string): Promise<BasicCredentials | undefined> {
    const helper = this.config.credHelpers.get(key);
    if (helper) return this.#fromHelper(helper, registry);
    const entry = this.config.auths.get(key);
    if (entry?.kind === 'password') return { username: entry.username, password: entry.password };
    if (entry?.kind === 'identity-token') {
      this.#warnIdentityToken(registry);
      return undefined;
    }
    if (this.config.credsStore) return this.#fromHelper(this.config.credsStore, registry);
    return undefined;
  }

  async #fromHelper(helper: string, registry: string): Promise<BasicCredentials | undefined> {
    const answer = await runCredentialHelper(helper, helperServerUrl(registry), this.env);
    if (!answer) return undefined;
    // Helpers store identity tokens with the conventional username "<token>".
    if (answer.username === '<token>') {
      this.#warnIdentityToken(registry);
      return undefined;
    }
    return { username: answer.username, password: answer.secret };
  }

  #warnIdentityToken(registry: string): void {
    this.warn(
      `${this.origin} holds an identity token for ${registry}; only username/password credentials are supported, pulling anonymously`,
    );
  }
}
