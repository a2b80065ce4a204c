import { applyPolicyConfiguration, RuntimeError } from '@castellan/runtime';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { readRequestDocument } from '../inputs.js';
import { CLI_POLICY_ID, openPolicySession } from '../policy-session.js';
import type { PolicyFlags } from '../policy-session.js';
import { addPolicyOptions } from './policy-options.js';

interface RunFlags extends PolicyFlags {
  requestPath: string;
  raw?: boolean;
}

export function registerRun(program: Command): void {
  addPolicyOptions(
    program
      .command('run')
      .description('evaluate a policy against one admission request and print the AdmissionResponse')
      .argument('<module>', 'policy module: a local path, file://, registry://, https:// or http:// URL')
      .requiredOption(
        '-r, --request-path <file>',
        'AdmissionReview or AdmissionRequest JSON file, - for stdin',
      )
      .option('--raw', 'send the request to the policy verbatim (raw policies)'),
  ).action(async (reference: string, flags: RunFlags) => {
    const document = await readRequestDocument(flags.requestPath);
    const session = await openPolicySession(reference, flags);
    try {
      const verdict = await session.evaluator.validate(session.policy, document, { raw: flags.raw });
      // As kwctl: a policy given on the command line runs in protect mode and may mutate.
      const response = applyPolicyConfiguration(verdict, {
        policyId: CLI_POLICY_ID,
        policyMode: 'protect',
        allowedToMutate: true,
      });
      process.stdout.write(`${JSON.stringify(response)}\n`);
    } catch (error) {
      if (error instanceof RuntimeError) throw new CliError(error.message);
      throw error;
    } finally {
      await session.evaluator.close();
    }
  });
}
