/**
 * The gateway's URL space (docs/kubewarden-compatibility.md#endpoints): which endpoint a method and request
 * target name.
 */
import type { EvaluationOrigin } from './dispatch.js';

export type GatewayTarget =
  | {
      kind: 'admission';
      origin: EvaluationOrigin;
      policyId: string;
      /** The apiserver's `?timeout=` (a Go duration), if any. */
      callerTimeout: string | undefined;
    }
  | { kind: 'not-found'; path: string }
  | { kind: 'method-not-allowed'; path: string; allow: string };

const ORIGIN_OF_PREFIX: ReadonlyMap<string, EvaluationOrigin> = new Map([
  ['validate', 'validate'],
  ['validate_raw', 'validate_raw'],
  ['audit', 'audit'],
]);

export function routeRequest(method: string | undefined, target: string | undefined): GatewayTarget {
  const url = new URL(target ?? '/', 'https://gateway.invalid');
  const path = url.pathname;
  const segments = path.split('/');
  // "/validate/<id>" splits into ["", "validate", "<id>"].
  const origin =
    segments.length === 3 && segments[0] === '' ? ORIGIN_OF_PREFIX.get(segments[1] ?? '') : undefined;
  const policyId = origin === undefined ? undefined : decodeSegment(segments[2] ?? '');
  if (origin === undefined || policyId === undefined || policyId === '') return { kind: 'not-found', path };
  if (method !== 'POST') return { kind: 'method-not-allowed', path, allow: 'POST' };
  return { kind: 'admission', origin, policyId, callerTimeout: url.searchParams.get('timeout') ?? undefined };
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
