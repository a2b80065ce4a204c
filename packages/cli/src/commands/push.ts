import { formatModuleUrl, manifestAnnotations, parseModuleUrl } from '@castellan/oci';
import { isRegoModule, readPolicyMetadata, RuntimeError } from '@castellan/runtime';
import type { ModuleBytes, PolicyMetadata } from '@castellan/runtime';
import type { Command } from 'commander';
import { Option } from 'commander';
import { CliError } from '../cli-error.js';
import { readLocalModule } from '../module-source.js';
import { addRegistryOptions, withDistributionClient } from '../registry-options.js';
import type { RegistryFlags } from '../registry-options.js';
import { startTransfer } from '../transfer-progress.js';

interface PushFlags extends RegistryFlags {
  force?: boolean;
  output: 'text' | 'json';
}

/**
 * The module's metadata, or undefined for an un-annotated module pushed with --force. As kwctl:
 * un-annotated modules need --force, and Rego modules are never pushed without metadata, since
 * nothing could tell a policy server their execution mode.
 */
async function pushableMetadata(
  path: string,
  bytes: ModuleBytes,
  force: boolean,
): Promise<PolicyMetadata | undefined> {
  let compiled: WebAssembly.Module;
  let metadata: PolicyMetadata | undefined;
  try {
    compiled = await WebAssembly.compile(bytes);
    metadata = readPolicyMetadata(bytes);
  } catch (error) {
    const why = error instanceof RuntimeError ? error.message : (error as Error).message;
    throw new CliError(`cannot push ${path}: it is not a valid policy module: ${why}`);
  }
  if (metadata) return metadata;
  if (isRegoModule(WebAssembly.Module.exports(compiled))) {
    throw new CliError(
      `cannot push ${path}: it is a Rego module without metadata, which cannot be pushed even with --force; annotate it with \`castellan annotate\` (executionMode opa or gatekeeper)`,
    );
  }
  if (!force) {
    throw new CliError(
      `cannot push ${path}: the module is not annotated; annotate it with \`castellan annotate\`, or push it anyway with --force`,
    );
  }
  process.stderr.write(`castellan: warning: pushing ${path}, which is not annotated\n`);
  return undefined;
}

export function registerPush(program: Command): void {
  const command = program
    .command('push')
    .description('push a policy module to a registry as a Wasm OCI artifact (kwctl push)')
    .argument('<module>', 'the .wasm file to push: a local path or file:// URL')
    .argument('<uri>', 'destination: registry://host[:port]/repository:tag')
    .option('-f, --force', 'push a module that is not annotated (never allowed for Rego modules)')
    .addOption(
      new Option('-o, --output <format>', 'how to print the immutable reference')
        .choices(['text', 'json'])
        .default('text'),
    );
  addRegistryOptions(command).action(async (path: string, destination: string, flags: PushFlags) => {
    const target = parseModuleUrl(destination);
    const bytes = await readLocalModule(path);
    const metadata = await pushableMetadata(path, bytes, flags.force ?? false);
    const progress = startTransfer('push', formatModuleUrl(target));
    let reference: string;
    try {
      const pushed = await withDistributionClient(flags, (client) =>
        client.push(bytes, target, {
          annotations: manifestAnnotations(metadata?.annotations),
          onProgress: progress.onProgress,
        }),
      );
      reference = pushed.immutableReference;
      progress.finish(bytes.byteLength);
    } catch (error) {
      progress.abandon();
      throw error;
    }
    process.stdout.write(
      flags.output === 'json' ? `${JSON.stringify({ immutable_ref: reference })}\n` : `${reference}\n`,
    );
  });
}
