/**
 * Entry point of an evaluation worker thread. It owns warm engines for every policy loaded into it
 * and runs one task at a time; the parent enforces deadlines by terminating the whole thread.
 */
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, RuntimeError, RuntimeErrorCode } from '../errors.js';
import type { EngineContext, PolicyEngine } from '../engines/policy-engine.js';
import { RegoEngine } from '../engines/rego-engine.js';
import { WapcEngine } from '../engines/wapc-engine.js';
import { WasiEngine } from '../engines/wasi-engine.js';
import type { PolicyLogEntry, PolicyLogLevel, SyncHostCall } from '../host-calls/host-call.js';
import { isTracingLog, parseTracingLog } from '../host-calls/tracing-log.js';
import { blockingHostCall } from './host-call-bridge.js';
import type { PolicyLoadSpec, TaskResult, WorkerBootstrap, WorkerEvent, WorkerTask } from './messages.js';
import { TaskStatus } from './task-status.js';

const port = parentPort;
if (!port) throw new Error('evaluation-worker must run in a worker thread');
const bootstrap = workerData as WorkerBootstrap;
const status = new TaskStatus(bootstrap.status);
const callParent = blockingHostCall(bootstrap.hostCallPort, bootstrap.hostCallSignal);
const engines = new Map<string, PolicyEngine>();
const empty = new Uint8Array(0);

const emit = (event: WorkerEvent): void => port.postMessage(event);
const log = (entry: PolicyLogEntry): void => emit({ kind: 'log', entry });

// Libraries and guests write to the console (OPA's println, @wapc/host); that must never reach the
// process's stdout, which belongs to the CLI's JSON output.
console.log = (...args: unknown[]) => log({ policyId: '', level: 'info', message: format(...args) });
console.error = (...args: unknown[]) => log({ policyId: '', level: 'error', message: format(...args) });

function hostCallFor(policyId: string): SyncHostCall {
  return (binding, namespace, operation, payload) => {
    // tracing/log is ungated and always answers empty: forward it without blocking the guest.
    if (isTracingLog(binding, namespace, operation)) {
      log(parseTracingLog(policyId, payload));
      return { ok: true, response: empty };
    }
    return callParent({ policyId, binding, namespace, operation, payload });
  };
}

function createEngine(spec: PolicyLoadSpec): PolicyEngine {
  const context: EngineContext = {
    policyId: spec.policyId,
    settingsJson: spec.settingsJson,
    hostCall: hostCallFor(spec.policyId),
    log: (level: PolicyLogLevel, message: string) => log({ policyId: spec.policyId, level, message }),
  };
  switch (spec.executionMode) {
    case 'kubewarden-wapc': {
      const engine = new WapcEngine(
        { module: spec.module, globalExports: spec.globalExports, memoryImport: spec.memoryImport },
        context,
      );
      engine.prepare();
      return engine;
    }
    case 'opa':
    case 'gatekeeper': {
      const engine = new RegoEngine(spec.module, spec.executionMode, context, spec.memoryLimitPages);
      engine.prepare();
      return engine;
    }
    case 'wasi':
      return new WasiEngine(spec.module, context);
  }
}

function engineFor(policyKey: string): PolicyEngine {
  const engine = engines.get(policyKey);
  if (!engine) throw new RuntimeError(RuntimeErrorCode.PolicyNotLoaded, `policy ${policyKey} is not loaded`);
  return engine;
}

function run(task: WorkerTask): TaskResult {
  switch (task.kind) {
    case 'load':
      try {
        engines.set(task.spec.policyKey, createEngine(task.spec));
      } catch (error) {
        throw new RuntimeError(
          RuntimeErrorCode.ModuleLoadFailed,
          `policy ${task.spec.policyId}: cannot start the module: ${describeError(error)}`,
          { cause: error },
        );
      }
      return null;
    case 'validate':
      return engineFor(task.policyKey).validate(task.input);
    case 'validate-settings':
      return engineFor(task.policyKey).validateSettings();
    case 'unload':
      engines.delete(task.policyKey);
      return null;
  }
}

port.on('message', (task: WorkerTask) => {
  const startedAt = status.begin(task.seq);
  const ranMs = (): number => performance.now() - startedAt;
  try {
    const result = run(task);
    emit({ kind: 'done', seq: task.seq, result, ranMs: ranMs() });
  } catch (error) {
    const record =
      error instanceof RuntimeError
        ? error.toRecord()
        : { code: RuntimeErrorCode.EvaluationFailed, message: describeError(error) };
    emit({ kind: 'failed', seq: task.seq, error: record, ranMs: ranMs() });
  } finally {
    status.end();
  }
});
