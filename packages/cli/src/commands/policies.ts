import type { Command } from 'commander';
import { Option } from 'commander';
import { PolicyStore } from '../policy-store.js';
import type { StoredPolicy } from '../policy-store.js';
import { formatBytes } from '../transfer-progress.js';

const SHORT_SHA256 = 12;

function formatTable(policies: StoredPolicy[]): string {
  const header = ['URL', 'SIZE', 'SHA256', 'MODIFIED'];
  const rows = [
    header,
    ...policies.map((policy) => [
      policy.url,
      formatBytes(policy.size),
      policy.sha256.slice(0, SHORT_SHA256),
      policy.modified.toISOString().replace(/\.\d+Z$/, 'Z'),
    ]),
  ];
  const widths = header.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

export function registerPolicies(program: Command): void {
  program
    .command('policies')
    .description('list the policies in the local store')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (flags: { output: 'text' | 'json' }) => {
      const store = new PolicyStore();
      const policies = await store.list();
      if (flags.output === 'json') {
        process.stdout.write(`${JSON.stringify(policies, null, 2)}\n`);
      } else if (policies.length === 0) {
        process.stderr.write(
          `the policy store ${store.root} is empty: add policies with \`castellan pull\`\n`,
        );
      } else {
        process.stdout.write(formatTable(policies));
      }
    });
}
