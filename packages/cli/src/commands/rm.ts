import type { Command } from 'commander';
import { PolicyStore } from '../policy-store.js';

export function registerRm(program: Command): void {
  program
    .command('rm')
    .description('remove a policy from the local store')
    .argument('<policy>', 'the URL it was pulled from, or a sha256 prefix as `castellan policies` shows')
    .action(async (target: string) => {
      const removed = await new PolicyStore().remove(target);
      for (const policy of removed) process.stdout.write(`removed ${policy.url}\n`);
    });
}
