import { toWireError } from '@castellan/proto';
import type { GroupMemberConfig, PolicyConfig, PolicyGroupConfig, WireError } from '@castellan/proto';
import { parseGroupExpression } from '@castellan/runtime';
import type { PolicyEvaluator } from '@castellan/runtime';
import { EvaluatorErrorCode } from './errors.js';
import { HostCapabilityGrants } from './host-capabilities.js';
import type { ModuleCache } from './module-cache.js';
import type { LoadedModule, PolicyRevision, RevisionState } from './revision-state.js';

export interface PolicyLoaderDeps {
  pool: string;
  evaluator: PolicyEvaluator;
  modules: ModuleCache;
  grants: HostCapabilityGrants;
}

/** What one module needs to be loaded: a policy's or a group member's part of its config. */
type ModuleConfig = Pick<GroupMemberConfig, 'settings' | 'timeoutSeconds' | 'hostCapabilities'> & {
  sha256: string;
  executionMode?: PolicyConfig['executionMode'];
};

/**
 * Turns one revision of a policy into a {@link RevisionState}: each module from the store
 * (compiled once per digest and mode), loaded into every worker with its settings and timeout,
 * settings validated — one module for a policy, one per member for a group (members are named
 * `<policyId>/<member>`, as policy-server names them). It never throws: a failure at any step is
 * the state, and whatever was loaded before it is released.
 */
export class PolicyLoader {
  constructor(private readonly deps: PolicyLoaderDeps) {}

  async load({ policyId, config }: PolicyRevision): Promise<RevisionState> {
    if ('invalid' in config) return { kind: 'failed', error: config.invalid };
    const mismatch = this.mismatch(policyId, config);
    if (mismatch) return { kind: 'failed', error: mismatch };
    if (config.group) return this.loadGroup(policyId, config.group);
    if (!config.module) {
      return {
        kind: 'failed',
        error: {
          code: EvaluatorErrorCode.PolicyConfigInvalid,
          message: `policy "${policyId}" names no module`,
        },
      };
    }
    const loaded = await this.loadModule(policyId, {
      sha256: config.module.sha256,
      ...(config.executionMode !== undefined ? { executionMode: config.executionMode } : {}),
      settings: config.settings,
      timeoutSeconds: config.timeoutSeconds,
      ...(config.hostCapabilities !== undefined ? { hostCapabilities: config.hostCapabilities } : {}),
    });
    return 'error' in loaded ? { kind: 'failed', error: loaded.error } : { kind: 'loaded', ...loaded };
  }

  /** Unloads a loaded revision from the workers and releases its modules. */
  async release(state: RevisionState): Promise<void> {
    if (state.kind === 'loaded') await this.releaseModule(state);
    if (state.kind === 'group')
      await Promise.all([...state.members.values()].map((m) => this.releaseModule(m)));
  }

  private async loadGroup(policyId: string, group: PolicyGroupConfig): Promise<RevisionState> {
    let expression;
    try {
      expression = parseGroupExpression(group.expression, Object.keys(group.members));
    } catch (error) {
      // policy-server's words for a bad expression, given to every request
      // (docs/kubewarden-compatibility.md#policy-groups).
      const { code, message } = toWireError(error, EvaluatorErrorCode.LoadFailed, 'group expression');
      return {
        kind: 'failed',
        error: { code, message: `error evaluating policy group expression: ${message}` },
      };
    }
    const members = new Map<string, LoadedModule>();
    for (const [name, member] of Object.entries(group.members)) {
      const loaded = await this.loadModule(`${policyId}/${name}`, {
        ...member,
        sha256: member.module.sha256,
      });
      if ('error' in loaded) {
        await this.release({ kind: 'group', expression, message: group.message, members });
        return {
          kind: 'failed',
          error: { code: loaded.error.code, message: `policy group member ${name}: ${loaded.error.message}` },
        };
      }
      members.set(name, loaded);
    }
    return { kind: 'group', expression, message: group.message, members };
  }

  private async loadModule(id: string, config: ModuleConfig): Promise<LoadedModule | { error: WireError }> {
    const patterns = config.hostCapabilities ?? [];
    try {
      await HostCapabilityGrants.check(patterns);
    } catch (error) {
      return { error: toWireError(error, EvaluatorErrorCode.LoadFailed, 'host capabilities') };
    }
    const { sha256, executionMode } = config;
    let module;
    try {
      module = await this.deps.modules.acquire(sha256, executionMode);
    } catch (error) {
      return { error: toWireError(error, EvaluatorErrorCode.LoadFailed, `cannot prepare module ${sha256}`) };
    }
    this.deps.grants.grant(id, patterns);
    let policy;
    try {
      policy = await this.deps.evaluator.load({
        policyId: id,
        module,
        settings: config.settings,
        timeoutSeconds: config.timeoutSeconds,
      });
    } catch (error) {
      this.deps.modules.release(sha256, executionMode);
      return {
        error: toWireError(error, EvaluatorErrorCode.LoadFailed, `policy ${id}: cannot load the module`),
      };
    }
    const loaded: LoadedModule = { policy, module: { sha256, executionMode } };
    const verdict = await this.deps.evaluator.validateSettings(policy);
    if (verdict.valid) return loaded;
    await this.releaseModule(loaded);
    return {
      error: {
        code: EvaluatorErrorCode.SettingsInvalid,
        // The text Kubewarden's policy-server answers with
        // (docs/kubewarden-compatibility.md#loading-policies).
        message: `Policy settings are invalid: ${verdict.message ?? 'no message'}`,
      },
    };
  }

  private async releaseModule(loaded: LoadedModule): Promise<void> {
    this.deps.modules.release(loaded.module.sha256, loaded.module.executionMode);
    await this.deps.evaluator.unload(loaded.policy);
  }

  private mismatch(policyId: string, config: PolicyConfig) {
    if (config.pool === this.deps.pool && config.policyId === policyId) return undefined;
    return {
      code: EvaluatorErrorCode.PolicyConfigInvalid,
      message: `policy "${policyId}" of pool "${this.deps.pool}": its configuration names policy "${config.policyId}" of pool "${config.pool}"; the writer of the policy KV is wrong`,
    };
  }
}
