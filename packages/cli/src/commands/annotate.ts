import { writeFile } from 'node:fs/promises';
import { annotatePolicy, RuntimeError } from '@castellan/runtime';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { readText } from '../inputs.js';
import { readLocalModule } from '../module-source.js';

interface AnnotateFlags {
  metadataPath: string;
  usagePath?: string;
  output: string;
}

export function registerAnnotate(program: Command): void {
  program
    .command('annotate')
    .description('embed policy metadata (io.kubewarden.metadata) in a module, as kwctl annotate does')
    .argument('<module>', 'the module to annotate')
    .requiredOption('-m, --metadata-path <file>', 'metadata.yml')
    .option('-u, --usage-path <file>', 'usage documentation (README) to embed')
    .requiredOption('-o, --output <file>', 'where to write the annotated module')
    .action(async (reference: string, flags: AnnotateFlags) => {
      const module = await readLocalModule(reference);
      const metadataYaml = await readText(flags.metadataPath, 'metadata file');
      const usage = flags.usagePath === undefined ? undefined : await readText(flags.usagePath, 'usage file');
      let annotated: Uint8Array;
      try {
        annotated = (await annotatePolicy({ module, metadataYaml, usage })).module;
      } catch (error) {
        if (error instanceof RuntimeError)
          throw new CliError(`cannot annotate ${reference}: ${error.message}`);
        throw error;
      }
      try {
        await writeFile(flags.output, annotated);
      } catch (error) {
        throw new CliError(`cannot write ${flags.output}: ${(error as Error).message}`);
      }
      process.stderr.write(`annotated module written to ${flags.output}\n`);
    });
}
