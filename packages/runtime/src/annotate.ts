import { parse as parseYaml } from 'yaml';
import { WapcGuest } from './engines/wapc-guest.js';
import { describeError, RuntimeError, RuntimeErrorCode } from './errors.js';
import { KUBEWARDEN_COMPATIBLE_VERSION, parseMetadata, serialiseMetadata } from './metadata/index.js';
import type { PolicyMetadata } from './metadata/index.js';
import { assertWasmMagic, isRegoModule, METADATA_SECTION } from './policy-module.js';
import { renameFunctionImport, setCustomSection } from './wasm/index.js';
import type { ModuleBytes } from './wasm/index.js';

export interface AnnotateInput {
  module: ModuleBytes;
  /** The metadata.yml text (YAML or JSON). */
  metadataYaml: string;
  /** Contents of the usage file (README), stored as `io.kubewarden.policy.usage`. */
  usage?: string;
}

export interface AnnotateResult {
  module: ModuleBytes;
  metadata: PolicyMetadata;
}

/**
 * Asks a waPC guest which protocol it speaks (`protocol_version`,
 * docs/kubewarden-compatibility.md#wapc-operations).
 */
export function detectWapcProtocolVersion(compiled: WebAssembly.Module): 'v1' | 'Unknown' {
  let reply: Uint8Array;
  try {
    const guest = WapcGuest.create(
      compiled,
      () => ({ ok: false, error: 'host calls are not available while annotating' }),
      () => undefined,
    );
    reply = guest.call('protocol_version', new Uint8Array(0));
  } catch (error) {
    throw new RuntimeError(
      RuntimeErrorCode.ExecutionModeMismatch,
      `cannot invoke the 'protocol_version' waPC function: ${describeError(error)}; is this a waPC policy? If not, set executionMode in the metadata`,
    );
  }
  const text = new TextDecoder().decode(reply);
  return text === '"v1"' ? 'v1' : 'Unknown';
}

/**
 * Embeds policy metadata in a module as kwctl annotate does (docs/kubewarden-compatibility.md#annotating):
 * backend detection and protocol version, tool and usage annotations, validation, the
 * `io.kubewarden.metadata` custom section (replacing any earlier one), and Javy's host-call import renamed to
 * `host.call`.
 */
export async function annotatePolicy(input: AnnotateInput): Promise<AnnotateResult> {
  assertWasmMagic(input.module);
  let declared: unknown;
  try {
    declared = parseYaml(input.metadataYaml) as unknown;
  } catch (error) {
    throw new RuntimeError(
      RuntimeErrorCode.MetadataInvalid,
      `the metadata file is not valid YAML: ${describeError(error)}`,
    );
  }
  if (typeof declared !== 'object' || declared === null || Array.isArray(declared)) {
    throw new RuntimeError(RuntimeErrorCode.MetadataInvalid, 'the metadata file must be a YAML mapping');
  }
  let compiled: WebAssembly.Module;
  try {
    compiled = await WebAssembly.compile(input.module);
  } catch (error) {
    throw new RuntimeError(
      RuntimeErrorCode.ModuleInvalid,
      `the module is not valid WebAssembly: ${describeError(error)}`,
    );
  }
  const metadata = parseMetadata(declared);
  const rego = isRegoModule(WebAssembly.Module.exports(compiled));
  const regoMode = metadata.executionMode === 'opa' || metadata.executionMode === 'gatekeeper';
  if (rego && !regoMode) {
    throw new RuntimeError(
      RuntimeErrorCode.ExecutionModeMismatch,
      `this is a Rego module: set executionMode to opa or gatekeeper in the metadata (it says ${metadata.executionMode})`,
    );
  }
  if (!rego && regoMode) {
    throw new RuntimeError(
      RuntimeErrorCode.ExecutionModeMismatch,
      `executionMode ${metadata.executionMode} needs a Rego module, and this one exports no opa_* functions`,
    );
  }
  const protocolVersion =
    metadata.executionMode === 'kubewarden-wapc' ? detectWapcProtocolVersion(compiled) : 'Unknown';
  const annotations: Record<string, string> = {
    ...metadata.annotations,
    'io.kubewarden.kwctl': KUBEWARDEN_COMPATIBLE_VERSION,
  };
  if (input.usage !== undefined) annotations['io.kubewarden.policy.usage'] = input.usage;
  // Validate again with what annotation added (a waPC module answering "Unknown" is refused here).
  const annotated = parseMetadata({ ...(declared as Record<string, unknown>), protocolVersion, annotations });
  if (annotated.executionMode === 'kubewarden-wapc' && annotated.protocolVersion !== 'v1') {
    throw new RuntimeError(
      RuntimeErrorCode.ProtocolVersionUnsupported,
      'the policy answered protocol_version with something other than "v1": Castellan and Kubewarden only run v1 waPC policies',
    );
  }
  let module = setCustomSection(
    input.module,
    METADATA_SECTION,
    new TextEncoder().encode(serialiseMetadata(annotated)),
  );
  module = renameFunctionImport(
    module,
    { module: 'kubewarden:javy/host', name: 'call' },
    { module: 'host', name: 'call' },
  );
  return { module, metadata: annotated };
}
