// Failures as the API server reports them: a metav1.Status body with an HTTP code and a reason.
import type { ResourceType } from './types.js';
import { groupResource } from './types.js';

export type StatusReason =
  | 'BadRequest'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'InternalError';

export interface StatusCause {
  field?: string;
  message: string;
  reason?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** Thrown anywhere in the fake; the HTTP layer turns it into a Status body with `code`. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

function resourceDetails(type: ResourceType, name: string): StatusDetails {
  return { name, group: type.group, kind: type.plural };
}

export function notFound(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(
    404,
    'NotFound',
    `${groupResource(type)} "${name}" not found`,
    resourceDetails(type, name),
  );
}

export function alreadyExists(type: ResourceType, name: string): KubeApiError {
  return new KubeApiError(
    409,
    'AlreadyExists',
    `${groupResource(type)} "${name}" already exists`,
    resourceDetails(type, name),
  );
}

export function conflict(type: ResourceType, name: string, why: string): KubeApiError {
  return new KubeApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${groupResource(type)} "${name}": ${why}`,
    resourceDetails(type, name),
  );
}

export const STALE_OBJECT =
  'the object has been modified; please apply your changes to the latest version and try again';

/** 422 Invalid; `problems` are `field: message` strings as the schema validator reports them. */
export function invalid(type: ResourceType, name: string, problems: string[]): KubeApiError {
  const causes = problems.map((problem): StatusCause => {
    const at = problem.indexOf(': ');
    return at < 0
      ? { reason: 'FieldValueInvalid', message: problem }
      : { reason: 'FieldValueInvalid', field: problem.slice(0, at), message: problem.slice(at + 2) };
  });
  const qualifiedKind = type.group ? `${type.kind}.${type.group}` : type.kind;
  return new KubeApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${problems.join(', ')}`, {
    name,
    group: type.group,
    kind: type.kind,
    causes,
  });
}

export function badRequest(message: string): KubeApiError {
  return new KubeApiError(400, 'BadRequest', message);
}

export function expired(message: string): KubeApiError {
  return new KubeApiError(410, 'Expired', message);
}
