import type { PolicyLogEntry, PolicyLogLevel } from './host-call.js';

const LEVELS: readonly PolicyLogLevel[] = ['trace', 'debug', 'info', 'warning', 'error'];

/**
 * Reads a `kubewarden/tracing/log` payload (docs/kubewarden-compatibility.md#logging). Levels are
 * case-insensitive and `warn` is not accepted; a malformed entry is still logged (at error level, saying why)
 * because the reference host logs it and lets the call succeed.
 */
export function parseTracingLog(policyId: string, payload: Uint8Array): PolicyLogEntry {
  let record: unknown;
  try {
    record = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return { policyId, level: 'error', message: 'policy sent a log entry that is not JSON' };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return { policyId, level: 'error', message: 'policy sent a log entry that is not a JSON object' };
  }
  const { level, message, ...fields } = record as Record<string, unknown>;
  const normalised = typeof level === 'string' ? level.toLowerCase() : undefined;
  if (!LEVELS.includes(normalised as PolicyLogLevel)) {
    return {
      policyId,
      level: 'error',
      message: `policy sent a log entry with an unknown level ${JSON.stringify(level)}`,
      fields,
    };
  }
  return {
    policyId,
    level: normalised as PolicyLogLevel,
    message: typeof message === 'string' ? message : '',
    fields,
  };
}

export function isTracingLog(binding: string, namespace: string, operation: string): boolean {
  return binding === 'kubewarden' && namespace === 'tracing' && operation === 'log';
}
