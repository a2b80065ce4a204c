import { decodePolicyConfig, policyKey, poolKeyFilter, messageOf } from '@castellan/proto';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { EvaluatorErrorCode } from './errors.js';
import { watchKv } from '@castellan/service-host';
import type { KvWatch } from '@castellan/service-host';
import type { PolicyRevision } from './revision-state.js';

export interface PolicyWatcherHandlers {
  /** A PUT of a policy's key: its config (or why it cannot be read) at that revision. */
  onPut(revision: PolicyRevision): void;
  /** A DEL or PURGE of a policy's key. */
  onDelete(policyId: string, revision: number): void;
}

/**
 * Watches the pool's policies in the policy KV (one key filter, `poolKeyFilter`): the current
 * value of each, then every change, with the KV entry's revision as the policy revision.
 */
export async function watchPoolPolicies(
  nc: NatsConnection,
  kv: KV,
  pool: string,
  handlers: PolicyWatcherHandlers,
  logger: Logger,
): Promise<KvWatch> {
  const onEntry = (entry: KvWatchEntry): void => {
    const policyId = policyIdOf(entry.key, pool);
    if (policyId === undefined) {
      logger.warn({ key: entry.key }, 'policy KV key of this pool does not name a policy; ignored');
      return;
    }
    if (entry.operation !== 'PUT') {
      handlers.onDelete(policyId, entry.revision);
      return;
    }
    let config: PolicyRevision['config'];
    try {
      config = decodePolicyConfig(entry.value);
    } catch (error) {
      config = {
        invalid: {
          code: EvaluatorErrorCode.PolicyConfigInvalid,
          message: `policy "${policyId}": its configuration in the policy KV cannot be read: ${messageOf(error)}`,
        },
      };
    }
    handlers.onPut({ policyId, revision: entry.revision, config });
  };
  return watchKv(nc, kv, poolKeyFilter(pool), onEntry, logger);
}

/** The policy id a key of the pool stands for, checked by building the key back with proto. */
function policyIdOf(key: string, pool: string): string | undefined {
  const policyId = key.slice(key.indexOf('.') + 1);
  try {
    return policyKey(pool, policyId) === key ? policyId : undefined;
  } catch {
    return undefined;
  }
}
