import { toWireError } from '@castellan/proto';
import type { PolicyConfig } from '@castellan/proto';
import type { PolicyEvaluator } from '@castellan/runtime';
import { EvaluatorErrorCode } from './errors.js';
import { HostCapabilityGrants } from './host-capabilities.js';
import type { ModuleCache } from './module-cache.js';
import type { PolicyRevision, RevisionState } from './revision-state.js';

export interface PolicyLoaderDeps {
  pool: string;
  evaluator: PolicyEvaluator;
  modules: ModuleCache;
  grants: HostCapabilityGrants;
}

/**
 * Turns one revision of a policy into a {@link RevisionState}: module from the store (compiled once
 * per digest and mode), loaded into every worker with its settings and timeout, settings validated.
 * It never throws: a failure at any step is the state.
 */
export class PolicyLoader {
  constructor(private readonly deps: PolicyLoaderDeps) {}

  async load({ policyId, config }: PolicyRevision): Promise<RevisionState> {
    if ('invalid' in config) return { kind: 'failed', error: config.invalid };
    const mismatch = this.mismatch(policyId, config);
    if (mismatch) return { kind: 'failed', error: mismatch };
    const patterns = config.hostCapabilities ?? [];
    try {
      await HostCapabilityGrants.check(patterns);
    } catch (error) {
      return {
        kind: 'failed',
        error: toWireError(error, EvaluatorErrorCode.LoadFailed, 'host capabilities'),
      };
    }

    const { sha256 } = config.module;
    const { executionMode } = config;
    let module;
    try {
      module = await this.deps.modules.acquire(sha256, executionMode);
    } catch (error) {
      return {
        kind: 'failed',
        error: toWireError(error, EvaluatorErrorCode.LoadFailed, `cannot prepare module ${sha256}`),
      };
    }
    this.deps.grants.grant(policyId, patterns);
    let policy;
    try {
      policy = await this.deps.evaluator.load({
        policyId,
        module,
        settings: config.settings,
        timeoutSeconds: config.timeoutSeconds,
      });
    } catch (error) {
      this.deps.modules.release(sha256, executionMode);
      return {
        kind: 'failed',
        error: toWireError(
          error,
          EvaluatorErrorCode.LoadFailed,
          `policy ${policyId}: cannot load the module`,
        ),
      };
    }
    const loaded: RevisionState = { kind: 'loaded', policy, module: { sha256, executionMode } };
    const verdict = await this.deps.evaluator.validateSettings(policy);
    if (verdict.valid) return loaded;
    await this.release(loaded);
    return {
      kind: 'failed',
      error: {
        code: EvaluatorErrorCode.SettingsInvalid,
        // The text Kubewarden's policy-server answers with (spec §6.3).
        message: `Policy settings are invalid: ${verdict.message ?? 'no message'}`,
      },
    };
  }

  /** Unloads a loaded revision from the workers and releases its module. */
  async release(state: RevisionState): Promise<void> {
    if (state.kind !== 'loaded') return;
    this.deps.modules.release(state.module.sha256, state.module.executionMode);
    await this.deps.evaluator.unload(state.policy);
  }

  private mismatch(policyId: string, config: PolicyConfig) {
    if (config.pool === this.deps.pool && config.policyId === policyId) return undefined;
    return {
      code: EvaluatorErrorCode.PolicyConfigInvalid,
      message: `policy "${policyId}" of pool "${this.deps.pool}": its configuration names policy "${config.policyId}" of pool "${config.pool}"; the writer of the policy KV is wrong`,
    };
  }
}
