import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { CliError } from './cli-error.js';

/** Reads a text file given on the command line (`-` is stdin), as a one-line error when it cannot. */
export async function readText(path: string, what: string): Promise<string> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** The request document: an AdmissionReview or a bare AdmissionRequest (or any JSON with --raw). */
export async function readRequestDocument(path: string): Promise<unknown> {
  const text = await readText(path, 'request file');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`request file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export interface SettingsFlags {
  settingsJson?: string;
  settingsPath?: string;
}

/** Policy settings from --settings-json or a YAML/JSON --settings-path; `{}` when neither is given. */
export async function readSettings(flags: SettingsFlags): Promise<Record<string, unknown>> {
  if (flags.settingsJson !== undefined && flags.settingsPath !== undefined) {
    throw new CliError('give either --settings-json or --settings-path, not both');
  }
  let value: unknown = {};
  if (flags.settingsJson !== undefined) {
    try {
      value = JSON.parse(flags.settingsJson);
    } catch (error) {
      throw new CliError(`--settings-json is not valid JSON: ${(error as Error).message}`);
    }
  } else if (flags.settingsPath !== undefined) {
    const text = await readText(flags.settingsPath, 'settings file');
    try {
      value = parseYaml(text) as unknown;
    } catch (error) {
      throw new CliError(
        `settings file ${flags.settingsPath} is not valid YAML or JSON: ${(error as Error).message}`,
      );
    }
  }
  value ??= {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError('policy settings must be an object (a YAML mapping or a JSON object)');
  }
  return value as Record<string, unknown>;
}
