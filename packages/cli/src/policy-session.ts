import {
  compilePolicyModule,
  createHostCallDispatcher,
  PolicyEvaluator,
  RuntimeError,
} from '@castellan/runtime';
import type { ExecutionMode, LoadedPolicy, PolicyLogEntry, PolicyModule } from '@castellan/runtime';
import { CliError } from './cli-error.js';
import { readSettings } from './inputs.js';
import type { SettingsFlags } from './inputs.js';
import { readModule } from './module-source.js';
import type { RegistryFlags } from './registry-options.js';

/** The policy id kwctl uses for a policy run from the command line. */
export const CLI_POLICY_ID = 'policy-from-cli';

export interface PolicyFlags extends SettingsFlags, RegistryFlags {
  executionMode?: ExecutionMode;
  timeout?: number;
  workers?: number;
}

export interface PolicySession {
  module: PolicyModule;
  evaluator: PolicyEvaluator;
  policy: LoadedPolicy;
}

function writePolicyLog(entry: PolicyLogEntry): void {
  const fields =
    entry.fields && Object.keys(entry.fields).length > 0 ? ` ${JSON.stringify(entry.fields)}` : '';
  process.stderr.write(
    `${entry.level.toUpperCase()} [${entry.policyId || 'runtime'}] ${entry.message}${fields}\n`,
  );
}

/**
 * Compiles a module, loads it with its settings and validates them first, as kwctl does:
 * invalid settings end the command with the policy's own message.
 */
export async function openPolicySession(reference: string, flags: PolicyFlags): Promise<PolicySession> {
  const bytes = await readModule(reference, flags);
  const settings = await readSettings(flags);
  const module = await asCliError(compilePolicyModule(bytes, { executionMode: flags.executionMode }));
  const evaluator = new PolicyEvaluator({
    workers: flags.workers ?? 1,
    hostCallHandler: createHostCallDispatcher({ grantedCapabilities: () => ['*'] }),
    logSink: writePolicyLog,
  });
  try {
    const policy = await asCliError(
      evaluator.load({ policyId: CLI_POLICY_ID, module, settings, timeoutSeconds: flags.timeout }),
    );
    const verdict = await evaluator.validateSettings(policy);
    if (!verdict.valid) {
      throw new CliError(`Provided settings are not valid: ${verdict.message ?? 'no message'}`);
    }
    return { module, evaluator, policy };
  } catch (error) {
    await evaluator.close();
    throw error;
  }
}

async function asCliError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof RuntimeError) throw new CliError(error.message);
    throw error;
  }
}
