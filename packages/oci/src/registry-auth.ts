import type { BasicCredentials, RegistryCredentials } from './credentials.js';
import { OciError, OciErrorCode } from './errors.js';
import type { HttpTransport, RequestAuthenticator } from './http-transport.js';
import type { CredentialState } from './request-subject.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

/** Token lifetime when the token service does not say (distribution's token spec default). */
const DEFAULT_TOKEN_SECONDS = 60;
/** Renew a little early so that a token does not expire in flight. */
const EXPIRY_MARGIN_MS = 5_000;
const TOKEN_RESPONSE_LIMIT = 64 * 1024;

/**
 * Authentication with one registry: Basic credentials, or Bearer tokens from the challenge's
 * realm (distribution token spec), cached per scope. Credentials go to the registry and its realm only.
 */
export class RegistryAuthenticator implements RequestAuthenticator {
  #basic: string | undefined;
  #usedCredentials = false;
  readonly #tokens = new Map<string, { authorization: string; expiresAt: number }>();

  constructor(
    readonly registry: string,
    private readonly credentials: RegistryCredentials,
    private readonly transport: HttpTransport,
  ) {}

  authorization(scope: string): string | undefined {
    const token = this.#tokens.get(scope);
    if (token && token.expiresAt > Date.now()) return token.authorization;
    return this.#basic;
  }

  credentialState(): CredentialState {
    return { origin: this.credentials.origin, used: this.#usedCredentials };
  }

  async respond(wwwAuthenticate: string | undefined, scope: string): Promise<void> {
    const challenges = parseWwwAuthenticate(wwwAuthenticate ?? '');
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    const credentials = await this.credentials.lookup(this.registry);
    this.#usedCredentials = credentials !== undefined;
    if (bearer) {
      await this.#fetchToken(bearer.params, scope, credentials);
      return;
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic')) {
      if (!credentials) {
        // Scopes read `repository:<name>:<actions>`.
        const repository = scope.split(':')[1] ?? scope;
        throw new OciError(
          OciErrorCode.Unauthorized,
          `registry ${this.registry} requires credentials for repository "${repository}" and none were found in ${this.credentials.origin}; log in with docker login, or pass --docker-config-json-path`,
        );
      }
      this.#basic = basicAuthorization(credentials);
      return;
    }
    throw new OciError(
      OciErrorCode.ProtocolError,
      `registry ${this.registry} answered 401 with no Basic or Bearer challenge (WWW-Authenticate: ${wwwAuthenticate ?? 'absent'})`,
    );
  }

  async #fetchToken(
    params: Record<string, string>,
    scope: string,
    credentials: BasicCredentials | undefined,
  ): Promise<void> {
    const realm = parseRealm(params.realm, this.registry);
    if (params.service !== undefined) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', scope);
    const issuedAt = Date.now();
    const body = await this.transport
      .send(
        {
          method: 'GET',
          url: realm,
          headers: credentials ? { authorization: basicAuthorization(credentials) } : {},
          expect: [200],
          subject: { kind: 'url', url: realm.href },
        },
        async (response) => {
          const text = await response.body.text();
          return text.length > TOKEN_RESPONSE_LIMIT ? '' : text;
        },
      )
      .catch((error: unknown) => {
        const refused =
          error instanceof OciError &&
          (error.code === OciErrorCode.Unauthorized || error.code === OciErrorCode.Forbidden);
        if (!refused) throw error;
        const why = credentials
          ? `refused the credentials from ${this.credentials.origin}; check them`
          : `requires credentials and none were found in ${this.credentials.origin}; log in with docker login`;
        throw new OciError(
          OciErrorCode.Unauthorized,
          `the token service ${realm.origin}${realm.pathname} of registry ${this.registry} ${why}, or pass --docker-config-json-path`,
          { cause: error },
        );
      });
    const token = readToken(body);
    if (!token) {
      throw new OciError(
        OciErrorCode.ProtocolError,
        `the token service ${realm.origin}${realm.pathname} of registry ${this.registry} answered without a token`,
      );
    }
    const seconds = token.expiresIn ?? DEFAULT_TOKEN_SECONDS;
    this.#tokens.set(scope, {
      authorization: `Bearer ${token.value}`,
      expiresAt: issuedAt + seconds * 1000 - EXPIRY_MARGIN_MS,
    });
  }
}

function parseRealm(realm: string | undefined, registry: string): URL {
  try {
    if (realm === undefined) throw new Error('no realm');
    const url = new URL(realm);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not an HTTP URL');
    return url;
  } catch (error) {
    throw new OciError(
      OciErrorCode.ProtocolError,
      `registry ${registry} sent a Bearer challenge without a usable realm URL (${realm ?? 'none'})`,
      { cause: error },
    );
  }
}

function readToken(body: string): { value: string; expiresIn?: number } | undefined {
  try {
    const parsed = JSON.parse(body) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const value = typeof parsed.token === 'string' ? parsed.token : parsed.access_token;
    if (typeof value !== 'string' || value === '') return undefined;
    const expiresIn =
      typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : undefined;
    return { value, ...(expiresIn !== undefined && { expiresIn }) };
  } catch {
    return undefined;
  }
}

function basicAuthorization(credentials: BasicCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
