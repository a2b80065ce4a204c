import { spawn } from 'node:child_process';
import { OciError, OciErrorCode } from './errors.js';

/** What a helper answered: a username and secret, or nothing stored for that server. */
export type HelperAnswer = { username: string; secret: string } | undefined;

const HELPER_TIMEOUT_MS = 15_000;

/**
 * Runs `docker-credential-<helper> get` with the server URL on stdin, as the Docker CLI does
 * (docker-credential-helpers protocol), and reads `{"Username", "Secret"}` from stdout.
 */
export async function runCredentialHelper(
  helper: string,
  serverUrl: string,
  env: Record<string, string | undefined>,
): Promise<HelperAnswer> {
  const program = `docker-credential-${helper}`;
  const failed = (why: string, cause?: unknown) =>
    new OciError(
      OciErrorCode.CredentialHelperFailed,
      `credential helper ${program} failed for ${serverUrl}: ${why}`,
      {
        cause,
      },
    );

  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(program, ['get'], { env, timeout: HELPER_TIMEOUT_MS });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? failed(`${program} is not on PATH; install it or remove it from credHelpers/credsStore`, error)
            : failed(error.message, error),
        ),
      );
      child.once('close', (exitCode) =>
        resolve({
          code: exitCode,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
      child.stdin.end(serverUrl);
    },
  );

  if (code !== 0) {
    const output = `${stdout}${stderr}`.trim();
    // The helpers' own wording for "nothing stored" (credentials.ErrCredentialsNotFound).
    if (/credentials not found/i.test(output)) return undefined;
    throw failed(`exit code ${code ?? 'none (timed out or killed)'}: ${output || 'no output'}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(stdout);
  } catch (error) {
    throw failed('its output is not JSON', error);
  }
  const { Username: username, Secret: secret } = (answer ?? {}) as { Username?: unknown; Secret?: unknown };
  if (typeof username !== 'string' || typeof secret !== 'string') {
    throw failed('its output lacks the Username and Secret strings');
  }
  return { username, secret };
}
