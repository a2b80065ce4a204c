import { OciError } from '@castellan/oci';
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { registerAnnotate } from './commands/annotate.js';
import { registerBench } from './commands/bench.js';
import { registerBusSecrets } from './commands/bus-secrets.js';
import { registerInspect } from './commands/inspect.js';
import { registerPolicies } from './commands/policies.js';
import { registerPull } from './commands/pull.js';
import { registerPush } from './commands/push.js';
import { registerRm } from './commands/rm.js';
import { registerRun } from './commands/run.js';
import { registerUp } from './commands/up.js';

export function buildProgram(): Command {
  const program = new Command('castellan')
    .description('Castellan: run Kubewarden-compatible WebAssembly admission policies')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerRun(program);
  registerBench(program);
  registerInspect(program);
  registerAnnotate(program);
  registerPull(program);
  registerPush(program);
  registerPolicies(program);
  registerRm(program);
  registerUp(program);
  registerBusSecrets(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the process exit code. Errors are one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (thrown) {
    // OCI errors already say what failed and what to do.
    const error = thrown instanceof OciError ? new CliError(thrown.message) : thrown;
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      process.stderr.write(`castellan: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`castellan: unexpected failure: ${(error as Error).stack ?? String(error)}\n`);
    return 70;
  }
}
