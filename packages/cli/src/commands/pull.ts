import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { pullIntoStore } from '../policy-pull.js';
import { PolicyStore } from '../policy-store.js';
import { addRegistryOptions } from '../registry-options.js';
import type { RegistryFlags } from '../registry-options.js';

interface PullFlags extends RegistryFlags {
  output?: string;
}

export function registerPull(program: Command): void {
  const command = program
    .command('pull')
    .description('download a policy into the local store (kwctl pull); prints its path and sha256')
    .argument('<uri>', 'registry://, https:// or http:// URL; without a scheme, an OCI reference')
    .option('-o, --output <file>', 'also write the module to this file');
  addRegistryOptions(command).action(async (reference: string, flags: PullFlags) => {
    const pulled = await pullIntoStore(reference, flags, new PolicyStore());
    if (pulled.reused) process.stderr.write(`${pulled.url} is already in the store, not pulled again\n`);
    if (flags.output !== undefined) {
      try {
        await writeFile(flags.output, pulled.bytes);
      } catch (error) {
        throw new CliError(`cannot write ${flags.output}: ${(error as Error).message}`);
      }
    }
    process.stdout.write(`${pulled.path}\nsha256:${pulled.sha256}\n`);
  });
}
