/** pino's numeric levels. */
const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
/** Fields worth a user's eye on one line; the rest stays in the JSON logs of a real deployment. */
const SHOWN_FIELDS = ['policyId', 'pool', 'revision', 'url', 'sha256', 'port', 'subject', 'code'];

/**
 * One service log line (pino JSON) as a short human line: `gateway   info  listening port=8443`.
 * Lines that are not JSON pass through unchanged.
 */
export function formatServiceLine(service: string, line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${service.padEnd(9)} ${line}`;
  }
  const level = LEVELS[record.level as number] ?? String(record.level);
  const fields = SHOWN_FIELDS.filter((key) => record[key] !== undefined).map(
    (key) => `${key}=${String(record[key] as string)}`,
  );
  const error = record.err as { message?: string } | undefined;
  if (error?.message) fields.push(`error="${error.message}"`);
  return `${service.padEnd(9)} ${level.padEnd(5)} ${typeof record.msg === 'string' ? record.msg : ''} ${fields.join(' ')}`.trimEnd();
}
