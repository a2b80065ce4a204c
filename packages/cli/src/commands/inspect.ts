import { compilePolicyModule, RuntimeError } from '@castellan/runtime';
import type { ExecutionMode, PolicyModule } from '@castellan/runtime';
import type { Command } from 'commander';
import { Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { CliError } from '../cli-error.js';
import { readModule } from '../module-source.js';
import { addRegistryOptions } from '../registry-options.js';
import { executionModeOption } from './policy-options.js';
import type { RegistryFlags } from '../registry-options.js';

/** Import modules a host must provide; the rest of the imports are listed by count only. */
const HOST_INTERFACES = ['wapc', 'wasi_snapshot_preview1', 'host', 'kubewarden:javy/host', 'env'];

export interface InspectReport {
  module: string;
  sha256: string;
  sizeBytes: number;
  executionMode: string;
  protocolVersion: string | null;
  annotated: boolean;
  metadata: PolicyModule['metadata'] | null;
  imports: Record<string, string[]>;
}

function report(reference: string, module: PolicyModule): InspectReport {
  const imports: Record<string, string[]> = {};
  for (const entry of module.imports) {
    const group = HOST_INTERFACES.includes(entry.module) ? entry.module : 'other';
    (imports[group] ??= []).push(group === 'other' ? `${entry.module}.${entry.name}` : entry.name);
  }
  return {
    module: reference,
    sha256: module.sha256,
    sizeBytes: module.size,
    executionMode: module.executionMode,
    protocolVersion: module.metadata?.protocolVersion ?? null,
    annotated: module.metadata !== undefined,
    metadata: module.metadata ?? null,
    imports,
  };
}

function formatText(r: InspectReport): string {
  const lines = [
    `module            ${r.module}`,
    `sha256            ${r.sha256}`,
    `size              ${r.sizeBytes} bytes`,
    `execution mode    ${r.executionMode}`,
    `protocol version  ${r.protocolVersion ?? '(not annotated)'}`,
  ];
  const m = r.metadata;
  if (m) {
    lines.push(
      `mutating          ${m.mutating}`,
      `policy type       ${m.policyType}`,
      `background audit  ${m.backgroundAudit}`,
      `rules`,
      ...m.rules.map(
        (rule) =>
          `  ${rule.operations.join(',')} ${rule.apiGroups.map((g) => g || 'core').join(',')}/${rule.apiVersions.join(',')}/${rule.resources.join(',')}`,
      ),
    );
    if (m.contextAwareResources.length > 0) {
      lines.push(
        'context-aware resources',
        ...m.contextAwareResources.map((r) => `  ${r.apiVersion}/${r.kind}`),
      );
    }
    const annotations = Object.entries(m.annotations ?? {}).filter(
      ([key]) => key !== 'io.kubewarden.policy.usage',
    );
    if (annotations.length > 0) lines.push('annotations', ...annotations.map(([k, v]) => `  ${k}: ${v}`));
  } else {
    lines.push(
      'metadata          none: annotate the module before running it in a policy server (castellan annotate)',
    );
  }
  lines.push(
    'imports',
    ...Object.entries(r.imports).map(([group, names]) => `  ${group}: ${names.length} (${names.join(', ')})`),
  );
  return `${lines.join('\n')}\n`;
}

interface InspectFlags extends RegistryFlags {
  output: 'text' | 'json' | 'yaml';
  executionMode?: ExecutionMode;
}

export function registerInspect(program: Command): void {
  const command = program
    .command('inspect')
    .description('show a policy module’s metadata, execution mode, digest and imports')
    .argument('<module>', 'policy module: a local path, file://, registry://, https:// or http:// URL')
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'),
    )
    .addOption(executionModeOption());
  addRegistryOptions(command).action(async (reference: string, flags: InspectFlags) => {
    const bytes = await readModule(reference, flags);
    let module: PolicyModule;
    try {
      module = await compilePolicyModule(
        bytes,
        flags.executionMode ? { executionMode: flags.executionMode } : {},
      );
    } catch (error) {
      if (error instanceof RuntimeError) throw new CliError(`cannot inspect ${reference}: ${error.message}`);
      throw error;
    }
    const r = report(reference, module);
    const text =
      flags.output === 'json'
        ? `${JSON.stringify(r, null, 2)}\n`
        : flags.output === 'yaml'
          ? toYaml(r)
          : formatText(r);
    process.stdout.write(text);
  });
}
