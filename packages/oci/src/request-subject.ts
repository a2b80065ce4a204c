import { OciError, OciErrorCode } from './errors.js';

/** What a request is about, so that errors name the registry, repository and object. */
export type RequestSubject =
  | { kind: 'registry'; registry: string; repository: string; object: string; action: 'pull' | 'push' }
  | { kind: 'url'; url: string };

/** Whether credentials were sent, and where they came from, for 401/403 advice. */
export interface CredentialState {
  origin: string;
  used: boolean;
}

/** The error for a final HTTP status the caller did not expect. `detail` is the registry's error text. */
export function statusError(
  status: number,
  subject: RequestSubject,
  detail: string,
  credentials: CredentialState | undefined,
): OciError {
  const what = describeSubject(subject);
  const server =
    subject.kind === 'registry' ? `registry ${subject.registry}` : `server ${new URL(subject.url).host}`;
  const said = detail ? `: ${detail}` : '';
  const origin = credentials?.origin ?? 'the Docker config';
  if ((status === 401 || status === 403) && subject.kind === 'url') {
    return new OciError(
      status === 401 ? OciErrorCode.Unauthorized : OciErrorCode.Forbidden,
      `${server} refused ${what} (${status})${said}; modules are downloaded from web servers without credentials: serve it publicly, or push it to a registry`,
    );
  }
  if (status === 401) {
    const advice = credentials?.used
      ? `the credentials from ${origin} were rejected; check them`
      : `it requires credentials and none were found in ${origin}; log in with docker login`;
    return new OciError(
      OciErrorCode.Unauthorized,
      `${server} refused ${what} (401 Unauthorized)${said}; ${advice}, or pass --docker-config-json-path`,
    );
  }
  if (status === 403) {
    const action = subject.kind === 'registry' ? subject.action : 'pull';
    return new OciError(
      OciErrorCode.Forbidden,
      `${server} denied ${what} (403 Forbidden)${said}; the credentials from ${origin} lack permission to ${action} it`,
    );
  }
  if (status === 404) {
    const advice =
      subject.kind === 'registry'
        ? 'check the reference, and that the repository exists and is visible to these credentials'
        : 'check the URL';
    return new OciError(OciErrorCode.NotFound, `${server} has no ${what} (404 Not Found)${said}; ${advice}`);
  }
  if (status >= 500 || status === 429) {
    return new OciError(
      OciErrorCode.RegistryUnavailable,
      `${server} is unavailable: ${what} answered ${status}${said}; try again later`,
    );
  }
  return new OciError(
    OciErrorCode.RequestRejected,
    `${server} rejected the request for ${what} (${status})${said}`,
  );
}

export function describeSubject(subject: RequestSubject): string {
  return subject.kind === 'registry'
    ? `${subject.object} of repository "${subject.repository}"`
    : subject.url;
}

/** `CODE: message` pairs of a distribution-spec error body, or the start of any other body. */
export function registryErrorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] };
    if (Array.isArray(parsed.errors)) {
      return parsed.errors
        .map((error) => [error.code, error.message].filter((part) => typeof part === 'string').join(': '))
        .filter(Boolean)
        .join('; ');
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim().slice(0, 200);
}
