import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import type { ExecutionMode } from '@castellan/runtime';
import { addRegistryOptions } from '../registry-options.js';

const MODES: Record<string, ExecutionMode> = {
  'kubewarden-wapc': 'kubewarden-wapc',
  kubewarden: 'kubewarden-wapc', // kwctl's spelling
  opa: 'opa',
  gatekeeper: 'gatekeeper',
  wasi: 'wasi',
};

function parseMode(value: string): ExecutionMode {
  const mode = MODES[value];
  if (!mode) throw new InvalidArgumentError('use one of kubewarden-wapc, opa, gatekeeper, wasi');
  return mode;
}

export function parsePositiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('must be a positive number');
  return number;
}

export function parseNonNegativeNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new InvalidArgumentError('must be a number of 0 or more');
  }
  return number;
}

export function parsePositiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive integer');
  return number;
}

/** `-e`: the execution mode of a module whose metadata does not say it (an unannotated Rego module). */
export function executionModeOption(): Option {
  return new Option(
    '-e, --execution-mode <mode>',
    'override the execution mode (must agree with the metadata)',
  ).argParser(parseMode);
}

/** The flags every command that runs a policy shares (run, bench), registry flags included. */
export function addPolicyOptions(command: Command): Command {
  return addRegistryOptions(
    command
      .option('--settings-json <json>', 'policy settings as a JSON object')
      .option('-s, --settings-path <file>', 'policy settings from a YAML or JSON file')
      .addOption(executionModeOption())
      .option('--timeout <seconds>', 'evaluation deadline in seconds (default 2)', parsePositiveNumber),
  );
}
