import { sha256Hex } from '@castellan/proto';
import { describeError, RuntimeError, RuntimeErrorCode } from './errors.js';
import { checkMinimumVersion, parseMetadata } from './metadata/index.js';
import type { ExecutionMode, PolicyMetadata } from './metadata/index.js';
import {
  capMemory,
  exportMutableGlobals,
  importDefinedMemory,
  readCustomSection,
  WASM_PAGE_BYTES,
} from './wasm/index.js';
import type { ModuleBytes } from './wasm/index.js';

export const METADATA_SECTION = 'io.kubewarden.metadata';
/** Prefix of the exports through which the runtime snapshots a waPC guest's mutable globals. */
const GLOBAL_EXPORT_PREFIX = '__castellan_global_';
/** Where a waPC guest's memory is imported from once the runtime provides it (see `MemoryImport`). */
export const GUEST_MEMORY_IMPORT = { module: 'castellan', name: 'memory' } as const;
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
export const DEFAULT_MEMORY_LIMIT_MIB = 256;

export interface CompileOptions {
  /** Overrides the execution mode; must agree with the metadata when the module is annotated. */
  executionMode?: ExecutionMode;
  /** Upper bound of one instance's linear memory. */
  memoryLimitMiB?: number;
  /**
   * Refuse what Kubewarden's policy-server refuses (docs/kubewarden-compatibility.md#wapc-operations): waPC
   * modules without metadata or with a protocol version other than v1. kwctl (and `castellan run`) accept
   * them.
   */
  requireProtocolVersion?: boolean;
}

/**
 * The limits of a guest memory the host creates. The host may start it larger than `minimumPages`:
 * an allocator that finds enough memory at start never grows it, and an instance whose memory did
 * not grow can be reset by snapshot instead of being rebuilt.
 */
export interface MemoryImport {
  minimumPages: number;
  maximumPages: number;
}

/** A policy module compiled once and ready to be sent to worker threads. */
export interface PolicyModule {
  sha256: string;
  size: number;
  metadata: PolicyMetadata | undefined;
  executionMode: ExecutionMode;
  compiled: WebAssembly.Module;
  /** waPC: exports of the instrumented mutable globals; null when the instance must be fresh per call. */
  globalExports: readonly string[] | null;
  memoryLimitPages: number;
  /** waPC: the guest memory's limits once it is imported from the host; undefined when the module
   *  keeps its own memory. */
  memoryImport: MemoryImport | undefined;
  /** The imports of the original module, for inspection. */
  imports: WebAssembly.ModuleImportDescriptor[];
  exports: WebAssembly.ModuleExportDescriptor[];
}

export function isRegoModule(exports: readonly WebAssembly.ModuleExportDescriptor[]): boolean {
  return exports.some((e) => e.name.startsWith('opa_'));
}

/**
 * Reads and validates the `io.kubewarden.metadata` section
 * (docs/kubewarden-compatibility.md#metadata-section); undefined when not annotated.
 */
export function readPolicyMetadata(bytes: Uint8Array): PolicyMetadata | undefined {
  const section = readCustomSection(bytes, METADATA_SECTION);
  if (!section) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(section));
  } catch (error) {
    throw new RuntimeError(
      RuntimeErrorCode.MetadataInvalid,
      `the ${METADATA_SECTION} section is not valid JSON: ${describeError(error)}`,
    );
  }
  return parseMetadata(json);
}

export function assertWasmMagic(bytes: Uint8Array): void {
  if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new RuntimeError(
      RuntimeErrorCode.ModuleInvalid,
      'invalid wasm file: it does not start with the WebAssembly magic bytes (\\0asm)',
    );
  }
}

async function compile(bytes: ModuleBytes, what: string): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes);
  } catch (error) {
    throw new RuntimeError(
      RuntimeErrorCode.ModuleInvalid,
      `${what} is not a valid WebAssembly module: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Kubewarden's execution-mode rules (docs/kubewarden-compatibility.md#choosing-the-execution-mode): metadata
 * first, an override must agree.
 */
export function resolveExecutionMode(
  metadata: PolicyMetadata | undefined,
  override: ExecutionMode | undefined,
  exports: readonly WebAssembly.ModuleExportDescriptor[],
): ExecutionMode {
  const rego = isRegoModule(exports);
  if (metadata && override && metadata.executionMode !== override) {
    throw new RuntimeError(
      RuntimeErrorCode.ExecutionModeMismatch,
      `the policy's metadata declares execution mode "${metadata.executionMode}", but "${override}" was requested: drop the override or re-annotate the policy`,
    );
  }
  const mode = metadata?.executionMode ?? override ?? (rego ? undefined : defaultMode(exports));
  if (!mode) {
    throw new RuntimeError(
      RuntimeErrorCode.ExecutionModeMismatch,
      'this is a Rego policy without metadata: give its execution mode (opa or gatekeeper), or annotate it',
    );
  }
  const regoMode = mode === 'opa' || mode === 'gatekeeper';
  if (rego !== regoMode) {
    throw new RuntimeError(
      RuntimeErrorCode.ExecutionModeMismatch,
      rego
        ? `this is a Rego module, but its execution mode is "${mode}": use opa or gatekeeper`
        : `execution mode "${mode}" needs a Rego module (exports named opa_*), and this module has none`,
    );
  }
  return mode;
}

/** Without metadata: a module exporting `__guest_call` speaks waPC, a bare `_start` is a WASI command. */
function defaultMode(exports: readonly WebAssembly.ModuleExportDescriptor[]): ExecutionMode {
  const names = new Set(exports.map((e) => e.name));
  return !names.has('__guest_call') && names.has('_start') ? 'wasi' : 'kubewarden-wapc';
}

function checkProtocolVersion(metadata: PolicyMetadata | undefined): void {
  if (!metadata?.protocolVersion) {
    throw new RuntimeError(
      RuntimeErrorCode.ProtocolVersionUnsupported,
      'Policy is missing protocol version, which is required for KubewardenWapc execution mode: annotate it with `castellan annotate`',
    );
  }
  if (metadata.protocolVersion !== 'v1') {
    throw new RuntimeError(
      RuntimeErrorCode.ProtocolVersionUnsupported,
      `Policy uses protocol version ${metadata.protocolVersion} but only V1 is supported`,
    );
  }
}

/**
 * Validates, instruments and compiles a policy module (docs/kubewarden-compatibility.md#policy-metadata,
 * #wapc-initialisation). Memory is capped in the binary for every module that defines its own; a waPC module
 * also gets its mutable globals exported so warm instances can be reset to their post-initialisation state.
 */
export async function compilePolicyModule(
  bytes: ModuleBytes,
  options: CompileOptions = {},
): Promise<PolicyModule> {
  assertWasmMagic(bytes);
  const original = await compile(bytes, 'the file');
  const metadata = readPolicyMetadata(bytes);
  if (metadata) checkMinimumVersion(metadata);
  const exports = WebAssembly.Module.exports(original);
  const executionMode = resolveExecutionMode(metadata, options.executionMode, exports);
  if (executionMode === 'kubewarden-wapc' && options.requireProtocolVersion) checkProtocolVersion(metadata);

  const memoryLimitPages = Math.floor(
    ((options.memoryLimitMiB ?? DEFAULT_MEMORY_LIMIT_MIB) * 1024 * 1024) / WASM_PAGE_BYTES,
  );
  let instrumented = bytes;
  let globalExports: string[] | null = null;
  let memoryImport: MemoryImport | undefined;
  if (executionMode === 'kubewarden-wapc' || executionMode === 'wasi') {
    instrumented = capMemory(instrumented, memoryLimitPages);
  }
  if (executionMode === 'kubewarden-wapc') {
    try {
      const withGlobals = exportMutableGlobals(instrumented, GLOBAL_EXPORT_PREFIX);
      instrumented = withGlobals.bytes;
      globalExports = withGlobals.globals.map((g) => g.exportName);
    } catch {
      // An init expression this runtime cannot parse: keep isolation with a fresh instance per call.
      globalExports = null;
    }
    const imported = importDefinedMemory(instrumented, GUEST_MEMORY_IMPORT);
    if (imported) {
      instrumented = imported.bytes;
      memoryImport = {
        minimumPages: imported.limits.min,
        maximumPages: imported.limits.max ?? memoryLimitPages,
      };
    }
  }
  const compiled = instrumented === bytes ? original : await compile(instrumented, 'the instrumented module');
  return {
    sha256: sha256Hex(bytes),
    size: bytes.length,
    metadata,
    executionMode,
    compiled,
    globalExports,
    memoryLimitPages,
    memoryImport,
    imports: WebAssembly.Module.imports(original),
    exports,
  };
}
