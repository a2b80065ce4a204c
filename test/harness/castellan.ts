import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ControlErrorCode, FetchClient, PolicyPublisher } from '@castellan/control';
import { ModuleStoreErrorCode } from '@castellan/module-store';
import type { DesiredPolicy, PublishOutcome } from '@castellan/control';
import type { NatsConnection } from '@nats-io/nats-core';
import type { LockedBus } from './nats.js';
import { createTestCertificates } from './pki.js';
import { freeLoopbackPort, startProcess, waitUntilReady } from './processes.js';
import type { ServerProcess } from './processes.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
export const POOL = 'default';

/** Short beats so tests see evaluators come and go within a second or two. */
const HEARTBEAT_MS = '300';
const ROLLOUT_GRACE_MS = '500';
/**
 * How long publishing retries policies whose fetch or KV write met an unavailable JetStream (a
 * cluster still electing leaders refuses KV writes: "jetstream is not enabled") or fetcher. A
 * malformed policy has a code of its own (PolicyInvalid) and fails at once.
 */
const PUBLISH_RETRY_MS = 30_000;
const TRANSIENT_CODES = new Set<string>([
  ModuleStoreErrorCode.Unavailable,
  ControlErrorCode.FetcherUnavailable,
  ControlErrorCode.PublishFailed,
]);

export interface Verdict {
  status: number;
  allowed?: boolean;
  uid?: string;
  message?: string;
  code?: number;
  /** Milliseconds from sending to the whole answer. */
  latencyMs: number;
}

/** An evaluator process, with what it says it evaluated. */
export interface EvaluatorProcess extends ServerProcess {
  /**
   * The uids of the requests this evaluator evaluated, from its own `evaluated` log lines (written
   * before it replies). Empty unless the harness was started with `recordEvaluations`.
   */
  readonly evaluated: ReadonlySet<string>;
}

/** Castellan's services as real processes (built `dist/main.js`) on one NATS. */
export interface CastellanProcesses {
  readonly nc: NatsConnection;
  readonly evaluators: EvaluatorProcess[];
  /** Starts one more evaluator of the pool. */
  addEvaluator(): EvaluatorProcess;
  /**
   * Fetches the modules and writes the policies to the KV, as `castellan up` does; like any caller,
   * it retries policies that failed for a transient reason (JetStream electing a leader).
   */
  publish(policies: DesiredPolicy[]): Promise<PublishOutcome[]>;
  /** Waits until the gateway routes each policy to an evaluator that answers for it. */
  waitUntilServed(policyIds: string[], timeoutMs?: number): Promise<void>;
  validate(policyId: string, body: Buffer | string): Promise<Verdict>;
  /** Any POST to the gateway, answered as received. */
  postRaw(path: string, body: Buffer | string, headers?: Record<string, string>): Promise<RawAnswer>;
  /** The gateway's Prometheus metrics text. */
  metrics(): Promise<string>;
  /** The recent output of every service, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export interface CastellanOptions {
  /** The locked NATS server or cluster; every service connects with its own identity. */
  bus: LockedBus;
  /** More directories the fetcher may read file:// modules from, besides the built policies. */
  moduleDirs?: string[];
  evaluators?: number;
  workers?: number;
  jetstreamReplicas?: number;
  /**
   * Runs the evaluators at debug level, so that each one's `evaluated` set says which requests it
   * answered: tests of evaluator loss tell the killed evaluator's answers from the survivors'.
   */
  recordEvaluations?: boolean;
}

export async function startCastellan(options: CastellanOptions): Promise<CastellanProcesses> {
  const dir = await mkdtemp(join(tmpdir(), 'castellan-processes-'));
  const certificates = await createTestCertificates({ dir });
  const ca = await readFile(certificates.caPath, 'utf8');
  const common = {
    CASTELLAN_LOG_LEVEL: 'warn',
    CASTELLAN_JETSTREAM_REPLICAS: String(options.jetstreamReplicas ?? 1),
  };
  // The control plane first: it creates the policies bucket the gateway and evaluators wait for.
  const nc = await options.bus.connect({ role: 'control' }, { maxReconnectAttempts: -1 });
  const publisher = await PolicyPublisher.open(
    nc,
    new FetchClient(nc, 30_000),
    options.jetstreamReplicas ?? 1,
  );
  const identityEnv = {
    fetcher: await options.bus.serviceEnv({ role: 'fetcher' }),
    evaluator: await options.bus.serviceEnv({ role: 'evaluator', pool: POOL }),
    gateway: await options.bus.serviceEnv({ role: 'gateway' }),
  };
  const service = (name: keyof typeof identityEnv, env: Record<string, string>): ServerProcess =>
    startProcess(process.execPath, [join(repo, 'services', name, 'dist/main.js')], {
      ...common,
      ...identityEnv[name],
      ...env,
    });

  // The fetcher reads file:// modules only from the directories it is given: the built policies.
  const fetcher = service('fetcher', {
    CASTELLAN_FETCHER_FILE_ROOTS: [
      join(repo, 'examples/build'),
      join(repo, 'test/policies/build'),
      ...(options.moduleDirs ?? []),
    ].join(','),
  });
  const evaluators: EvaluatorProcess[] = [];
  const addEvaluator = () => {
    const started = service('evaluator', {
      CASTELLAN_POOL: POOL,
      CASTELLAN_WORKERS: String(options.workers ?? 1),
      CASTELLAN_HEARTBEAT_MS: HEARTBEAT_MS,
      CASTELLAN_ROLLOUT_GRACE_MS: ROLLOUT_GRACE_MS,
      ...(options.recordEvaluations ? { CASTELLAN_LOG_LEVEL: 'debug' } : {}),
    });
    const evaluator = { ...started, evaluated: evaluatedUids(started) };
    evaluators.push(evaluator);
    return evaluator;
  };
  for (let i = 0; i < (options.evaluators ?? 1); i++) addEvaluator();

  const [port, readinessPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const gateway = service('gateway', {
    CASTELLAN_GATEWAY_ADDRESS: '127.0.0.1',
    CASTELLAN_GATEWAY_PORT: String(port),
    CASTELLAN_READINESS_PORT: String(readinessPort),
    CASTELLAN_TLS_CERT_FILE: certificates.certPath,
    CASTELLAN_TLS_KEY_FILE: certificates.keyPath,
  });
  const readiness = async () => (await fetch(`http://127.0.0.1:${readinessPort}/readiness`)).ok;
  try {
    await waitUntilReady(gateway, 'gateway', readiness, 30_000);
  } catch (error) {
    // Nothing may outlive a failed start: the caller never gets a handle to stop it.
    await Promise.all([gateway, fetcher, ...evaluators].map((child) => child.stop()));
    await nc.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const agent = new Agent({ keepAlive: true, ca, maxSockets: 64 });
  const logs = () =>
    [
      ['gateway', gateway] as const,
      ['fetcher', fetcher] as const,
      ...evaluators.map((evaluator, index) => [`evaluator ${index}`, evaluator] as const),
    ]
      .map(([name, child]) => `--- ${name}\n${child.output()}`)
      .join('\n');

  return {
    nc,
    evaluators,
    addEvaluator,
    async publish(policies) {
      const deadline = Date.now() + PUBLISH_RETRY_MS;
      for (;;) {
        const outcomes = await publisher.publish(POOL, policies);
        const transient = outcomes.some(
          (outcome) => outcome.result === 'failed' && TRANSIENT_CODES.has(outcome.error.code),
        );
        if (!transient || Date.now() > deadline) return outcomes;
        await sleep(500);
      }
    },
    async waitUntilServed(policyIds, timeoutMs = 30_000) {
      const review = await exampleReview('unprivileged-pod');
      const deadline = Date.now() + timeoutMs;
      for (const policyId of policyIds) {
        for (;;) {
          const verdict = await post(agent, port, `/validate/${policyId}`, review);
          if (verdict.status === 200 && verdict.code !== 500) break;
          if (Date.now() > deadline) {
            throw new Error(`policy ${policyId} not served: ${JSON.stringify(verdict)}\n${logs()}`);
          }
          await sleep(100);
        }
      }
    },
    validate: (policyId, body) => post(agent, port, `/validate/${policyId}`, body),
    postRaw: (path, body, headers) => postRaw(agent, port, path, body, headers),
    metrics: async () => (await fetch(`http://127.0.0.1:${readinessPort}/metrics`)).text(),
    logs,
    async stop() {
      agent.destroy();
      await nc.close();
      await Promise.all([gateway, fetcher, ...evaluators].map((child) => child.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The uids of an evaluator's `evaluated` log lines (pino JSON on stdout), as they are written. */
function evaluatedUids({ child }: ServerProcess): ReadonlySet<string> {
  const uids = new Set<string>();
  if (!child.stdout) return uids;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.includes('"msg":"evaluated"')) return;
    const { uid } = JSON.parse(line) as { uid?: unknown };
    if (typeof uid === 'string') uids.add(uid);
  });
  return uids;
}

/** An HTTP answer as received. */
export interface RawAnswer {
  status: number;
  contentType: string | undefined;
  text: string;
  latencyMs: number;
}

function postRaw(
  agent: Agent,
  port: number,
  path: string,
  body: Buffer | string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          text: Buffer.concat(chunks).toString('utf8'),
          latencyMs: performance.now() - started,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function post(agent: Agent, port: number, path: string, body: Buffer | string): Promise<Verdict> {
  const { status, text, latencyMs } = await postRaw(agent, port, path, body);
  const answer = JSON.parse(text) as {
    response?: { allowed?: boolean; uid?: string; status?: { message?: string; code?: number } };
    message?: string;
  };
  const response = answer.response;
  return response
    ? {
        status,
        allowed: response.allowed,
        uid: response.uid,
        message: response.status?.message,
        code: response.status?.code,
        latencyMs,
      }
    : { status, message: answer.message, latencyMs };
}

/** A policy of `examples/build` (annotated at build time), with policy-server defaults. */
export function examplePolicy(
  policyId: string,
  module: string,
  overrides: Partial<DesiredPolicy> = {},
): DesiredPolicy {
  return {
    policyId,
    moduleUrl: `file://${join(repo, 'examples/build', `${module}.wasm`)}`,
    settings: {},
    policyMode: 'protect',
    allowedToMutate: false,
    timeoutSeconds: 2,
    failurePolicy: 'Fail',
    contextAwareResources: [],
    ...overrides,
  };
}

export async function exampleReview(name: 'privileged-pod' | 'unprivileged-pod'): Promise<Buffer> {
  return readFile(join(repo, 'examples/requests', `${name}.json`));
}
