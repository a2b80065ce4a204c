import { ModuleStore } from '@castellan/module-store';
import {
  Bucket,
  decodeEvaluationReply,
  decodeEvaluatorStatus,
  encodeEvaluationRequest,
  encodePolicyConfig,
  evaluationSubject,
  evaluatorKey,
  policyKey,
} from '@castellan/proto';
import type { EvaluationOrigin, EvaluationReply, EvaluatorStatus, PolicyConfig } from '@castellan/proto';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import { errors } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { annotatedPolicyBytes, podRequest } from '../../../test/fixtures/index.js';
import { startNatsServer } from '../../../test/harness/nats.js';
import type { NatsServer } from '../../../test/harness/nats.js';
import { buildEvaluator, loadEvaluatorConfig } from '../src/index.js';
import type { EvaluatorService, ModuleSource } from '../src/index.js';

/** Short beats and grace so rollouts finish within a test. */
export const HEARTBEAT_MS = 200;
export const GRACE_MS = 300;

/**
 * A real, locked nats-server with the buckets the evaluator uses, and the test's own clients: `nc`
 * sends evaluations as the gateway does; the buckets are written as the control plane and the
 * fetcher write them.
 */
export interface TestNats {
  server: NatsServer;
  /** The gateway's identity: sends evaluations, reads the routes. */
  nc: NatsConnection;
  /** Holds the policy and status buckets (the control plane's identity). */
  control: NatsConnection;
  policies: KV;
  evaluators: KV;
  store: ModuleStore;
  /** sha256 of each annotated test policy put in the store. */
  modules: Record<string, string>;
  /** Connections opened for evaluators, closed at the end. */
  connections: NatsConnection[];
  close(): Promise<void>;
}

export async function startTestNats(policyNames: string[]): Promise<TestNats> {
  const server = await startNatsServer();
  const [nc, control, fetcher] = await Promise.all([
    server.connect({ role: 'gateway' }),
    server.connect({ role: 'control' }),
    server.connect({ role: 'fetcher' }),
  ]);
  const kvm = new Kvm(control);
  const policies = await kvm.create(Bucket.Policies);
  const evaluators = await kvm.create(Bucket.Evaluators);
  const store = await ModuleStore.open(fetcher);
  const modules: Record<string, string> = {};
  for (const name of policyNames) modules[name] = (await store.put(await annotatedPolicyBytes(name))).sha256;
  const connections: NatsConnection[] = [control, fetcher];
  return {
    server,
    nc,
    control,
    policies,
    evaluators,
    store,
    modules,
    connections,
    async close() {
      await Promise.all(connections.map((c) => c.close()));
      await nc.close();
      await server.stop();
    },
  };
}

export const logger: Logger = pino({ level: process.env.CASTELLAN_TEST_LOG_LEVEL ?? 'silent' });

export interface StartedEvaluator {
  service: EvaluatorService;
  nc: NatsConnection;
}

/** An evaluator on its own connection, as a separate process would have. */
export async function startEvaluator(
  nats: TestNats,
  pool: string,
  options: { id?: string; workers?: number; graceMs?: number; moduleSource?: ModuleSource } = {},
): Promise<StartedEvaluator> {
  const nc = await nats.server.connect({ role: 'evaluator', pool });
  nats.connections.push(nc);
  const config = loadEvaluatorConfig(
    {
      ...(await nats.server.serviceEnv({ role: 'evaluator', pool })),
      CASTELLAN_POOL: pool,
      CASTELLAN_WORKERS: String(options.workers ?? 1),
      CASTELLAN_HEARTBEAT_MS: String(HEARTBEAT_MS),
      CASTELLAN_ROLLOUT_GRACE_MS: String(options.graceMs ?? GRACE_MS),
      ...(options.id ? { CASTELLAN_EVALUATOR_ID: options.id } : {}),
    },
    { hostname: 'test-host', pid: process.pid },
  );
  const service = buildEvaluator({ nc, config, logger, moduleSource: options.moduleSource });
  await service.ready;
  return { service, nc };
}

export function policyConfig(
  pool: string,
  policyId: string,
  sha256: string,
  overrides: Partial<PolicyConfig> = {},
): PolicyConfig {
  return {
    policyId,
    pool,
    module: { url: `registry://example.test/${policyId}:v1`, sha256 },
    settings: {},
    policyMode: 'protect',
    allowedToMutate: false,
    timeoutSeconds: 2,
    failurePolicy: 'Fail',
    contextAwareResources: [],
    ...overrides,
  };
}

/** Writes a policy's config and returns its revision. */
export function putPolicy(nats: TestNats, config: PolicyConfig): Promise<number> {
  return nats.policies.put(policyKey(config.pool, config.policyId), encodePolicyConfig(config));
}

export async function readStatus(
  nats: TestNats,
  pool: string,
  evaluatorId: string,
): Promise<EvaluatorStatus | undefined> {
  const entry = await nats.evaluators.get(evaluatorKey(pool, evaluatorId));
  return entry && entry.operation === 'PUT' ? decodeEvaluatorStatus(entry.value) : undefined;
}

/** Waits until the evaluator reports `policyId` at `revision` (at least). */
export function waitForServed(
  nats: TestNats,
  pool: string,
  evaluatorId: string,
  policyId: string,
  revision: number,
): Promise<EvaluatorStatus> {
  return waitFor(`${evaluatorId} reports ${policyId} at revision ${revision}`, async () => {
    const status = await readStatus(nats, pool, evaluatorId);
    return status && (status.loaded[policyId] ?? 0) >= revision ? status : undefined;
  });
}

export interface SendOptions {
  origin?: EvaluationOrigin;
  uid?: string;
  deadline?: number;
  timeoutMs?: number;
}

/** Sends a body to one revision of a policy, as the gateway does. */
export async function send(
  nc: NatsConnection,
  target: { pool: string; policyId: string; revision: number },
  body: Uint8Array,
  options: SendOptions = {},
): Promise<EvaluationReply> {
  const request = encodeEvaluationRequest({
    policyId: target.policyId,
    revision: target.revision,
    origin: options.origin ?? 'validate',
    body,
    uid: options.uid ?? 'uid-1',
    deadline: options.deadline ?? Date.now() + 10_000,
  });
  const msg = await nc.request(evaluationSubject(target.pool, target.policyId, target.revision), request, {
    timeout: options.timeoutMs ?? 5_000,
  });
  return decodeEvaluationReply(msg.data);
}

export function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** An AdmissionReview body for a Pod, privileged or not. */
export function podReview(
  uid: string,
  options: { privileged?: boolean; labels?: Record<string, string> } = {},
) {
  const request = podRequest({ uid, labels: options.labels });
  if (options.privileged) {
    const object = request.object as { spec: { containers: Record<string, unknown>[] } };
    for (const container of object.spec.containers) container.securityContext = { privileged: true };
  }
  return json({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
}

/** The verdict of an `ok` reply (fails the test otherwise). */
export function verdict(reply: EvaluationReply): {
  uid?: string;
  allowed?: boolean;
  status?: { message?: string; code?: number };
} {
  if (!reply.ok) throw new Error(`expected a verdict, got error ${reply.error.code}: ${reply.error.message}`);
  return reply.response;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when nobody subscribes the subject any more. */
export async function hasNoResponders(
  nc: NatsConnection,
  target: { pool: string; policyId: string; revision: number },
): Promise<boolean> {
  try {
    await send(nc, target, json({}), { timeoutMs: 1_000 });
    return false;
  } catch (error) {
    return error instanceof errors.RequestError && error.isNoResponders();
  }
}
