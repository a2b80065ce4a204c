// Admission-path load benchmark: HTTPS AdmissionReviews through `castellan up` (gateway → NATS → one
// evaluator with 2 workers), at a fixed rate and at saturation, against the in-process evaluation rate
// of the same policy (`castellan bench`). Load generator, gateway, NATS and evaluator share the cores.
// Run after `npm run build`:  node bench/gateway-load.mjs [seconds per phase]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluationSubject, poolEvaluationSubjects, poolQueueGroup } from '@castellan/proto';
import {
  autocannonClient,
  descendants,
  exampleRequests,
  fixedRateClient,
  inProcessBench,
  moduleBeside,
  ms,
  percentile,
  policyModule,
  processCpuMs,
  startCastellanUp,
} from './castellan-up.mjs';

const seconds = Number(process.argv[2] ?? 10);
const FIXED_RATE = 500;
const SATURATION_CONNECTIONS = [32, 64];
const P99_TARGET_MS = 5;
const requests = await exampleRequests();

/**
 * The processes of `castellan up` and this one (the load generator), by role. The tether that runs
 * nats-server for `castellan up` (its command line names nats-server too) counts as `castellan up`.
 */
async function roles(upPid) {
  const named = [
    { role: 'load generator', pid: process.pid },
    { role: 'castellan up', pid: upPid },
  ];
  for (const pid of descendants(upPid)) {
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
    const role = /tether\.js/.test(command)
      ? 'castellan up'
      : /nats-server|gateway|evaluator|fetcher/.exec(command)?.[0];
    if (role) named.push({ role, pid });
  }
  return named;
}

/** CPU time (user + system) used so far by the processes of each role, in ms. */
async function cpuTimes(processes) {
  const times = new Map();
  for (const { role, pid } of processes) times.set(role, (times.get(role) ?? 0) + (await processCpuMs(pid)));
  return times;
}

/** Sum and count of the gateway's dispatch→verdict histogram, and its bucket counts. */
async function gatewayLatency(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text();
  const series = (suffix) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`castellan_policy_evaluation_latency_milliseconds_${suffix}`))
      .map((line) => ({ line, value: Number(line.split(' ').at(-1)) }));
  const total = (suffix) => series(suffix).reduce((sum, { value }) => sum + value, 0);
  const buckets = new Map();
  for (const { line, value } of series('bucket')) {
    const le = /le="([^"]+)"/.exec(line)[1];
    buckets.set(le, (buckets.get(le) ?? 0) + value);
  }
  return { sum: total('sum'), count: total('count'), buckets };
}

function latencyBetween(before, after) {
  const count = after.count - before.count;
  const within = (le) => (after.buckets.get(le) - before.buckets.get(le)) / count;
  return { count, meanMs: (after.sum - before.sum) / count, within1: within('1'), within5: within('5') };
}

/** An evaluator pool of its own, so that the echo responder shares no queue group with the evaluator. */
const ECHO_POOL = 'bench-echo';

/**
 * Request/reply round trips on castellan's own NATS with an AdmissionReview-sized payload and an echo
 * responder: the gateway's credentials and an evaluator's of a pool of its own, each held to its
 * permissions, as the admission path's hop.
 */
async function natsEcho(bus, payload, count = 2000) {
  const responder = await bus.connect({ role: 'evaluator', pool: ECHO_POOL });
  const requester = await bus.connect({ role: 'gateway' });
  const subject = evaluationSubject(ECHO_POOL, 'echo', 1);
  const sub = responder.subscribe(poolEvaluationSubjects(ECHO_POOL), {
    queue: poolQueueGroup(ECHO_POOL),
    callback: (_error, message) => message.respond(message.data),
  });
  await responder.flush();
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await requester.request(subject, payload, { timeout: 5000 });
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  sub.unsubscribe();
  await requester.close();
  await responder.close();
  const measured = latencies.slice(count / 10).sort((a, b) => a - b); // the first tenth warms up
  return { p50: percentile(measured, 50), p99: percentile(measured, 99) };
}

// --- the run ------------------------------------------------------------------------------------

const dir = await mkdtemp(join(tmpdir(), 'castellan-bench-gateway-'));
const up = await startCastellanUp(
  dir,
  `pod-privileged:\n  module: ${await moduleBeside(dir, policyModule)}\n`,
);
const url = `${up.origin}/validate/pod-privileged`;
const processes = await roles(up.pid);
const loadAverage = loadavg()[0];
const rows = [];
let echo;

/** Runs one load phase and records the client's figures, the gateway's and each process's CPU time. */
async function phase(name, load, run) {
  const metricsBefore = await gatewayLatency(up.metricsUrl);
  const cpuBefore = await cpuTimes(processes);
  const wallStart = performance.now();
  const result = await run();
  const wallMs = performance.now() - wallStart;
  const cpuAfter = await cpuTimes(processes);
  const gateway = latencyBetween(metricsBefore, await gatewayLatency(up.metricsUrl));
  const cpu = new Map([...cpuAfter].map(([role, used]) => [role, used - cpuBefore.get(role)]));
  rows.push({ name, load, ...result, gateway, cpu, wallMs });
}

try {
  // Warm-up: connections, JIT, the evaluator's instances.
  for (const request of Object.values(requests)) {
    await fixedRateClient({ url, ca: up.ca, request, rate: FIXED_RATE, durationS: 2 });
  }
  echo = await natsEcho(await up.bus(), requests.allowed.body);

  for (const [name, request] of Object.entries(requests)) {
    await phase(name, `${FIXED_RATE}/s, own client`, () =>
      fixedRateClient({ url, ca: up.ca, request, rate: FIXED_RATE, durationS: seconds }),
    );
    await phase(name, `${FIXED_RATE}/s, autocannon 8 conns`, () =>
      autocannonClient({ url, request, connections: 8, durationS: seconds, overallRate: FIXED_RATE }),
    );
  }
  for (const connections of SATURATION_CONNECTIONS) {
    for (const [name, request] of Object.entries(requests)) {
      await phase(name, `saturation, autocannon ${connections} conns`, () =>
        autocannonClient({ url, request, connections, durationS: seconds }),
      );
    }
  }
} catch (error) {
  up.kill();
  await rm(dir, { recursive: true, force: true });
  throw error;
}
await up.stop();
await rm(dir, { recursive: true, force: true });

// In-process references, with the cores to themselves now that castellan up is stopped: one worker
// thread (what the figures of earlier runs were judged against), and one per core (the same number
// of cores as the admission path had).
const inProcessReference = (workers) =>
  inProcessBench({ module: policyModule, requestPath: requests.allowed.path, seconds: 5, workers });
const workerCount = ({ workers }) => `${workers} worker${workers === 1 ? '' : 's'}`;
const inProcess = await inProcessReference(1);
const inProcessAllCores = await inProcessReference(cpus().length);

console.log(
  `${cpus().length} cores shared by the load generator, gateway, NATS and evaluator (2 workers); ` +
    `${seconds} s per phase; 1-minute load average before the run: ${loadAverage.toFixed(2)}.`,
);
console.log(
  '\n| request | load | req/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | non-2xx | gateway dispatch→verdict: mean ms, ≤1 ms, ≤5 ms |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  const { meanMs, within1, within5 } = row.gateway;
  const gateway = `${ms(meanMs)}, ${(within1 * 100).toFixed(0)}%, ${(within5 * 100).toFixed(1)}%`;
  const errors = row.wrongVerdict ? `${row.errors} (+${row.wrongVerdict} wrong verdicts)` : row.errors;
  console.log(
    `| ${row.name} | ${row.load} | ${row.ratePerS.toFixed(0)} | ${ms(row.p50)} | ${ms(row.p99)} | ${ms(row.p999)} | ${ms(row.max)} | ${errors} | ${row.non2xx} | ${gateway} |`,
  );
}

const roleNames = [...new Set(processes.map(({ role }) => role))];
console.log(
  `\nCPU time per request in µs (user + system, from /proc; 10 ms ticks), and cores busy in total:\n`,
);
console.log(`| request | load | ${roleNames.join(' | ')} | total | cores busy |`);
console.log(`|---|---|${roleNames.map(() => '---|').join('')}---|---|`);
for (const row of rows) {
  const requestsDone = row.gateway.count;
  const perRequest = roleNames.map((role) => ((row.cpu.get(role) * 1000) / requestsDone).toFixed(0));
  const totalMs = [...row.cpu.values()].reduce((sum, used) => sum + used, 0);
  console.log(
    `| ${row.name} | ${row.load} | ${perRequest.join(' | ')} | ${((totalMs * 1000) / requestsDone).toFixed(0)} | ${(totalMs / row.wallMs).toFixed(2)} |`,
  );
}

const ownRuns = rows.filter((row) => row.load.endsWith('own client'));
const lags = ownRuns.map((row) => ms(row.maxLagMs)).join(' / ');
console.log(`\nOwn client: worst lag behind its send schedule ${lags} ms.`);
console.log(
  `NATS echo request/reply on the same server (AdmissionReview payload, sequential): p50 ${ms(echo.p50)} ms, p99 ${ms(echo.p99)} ms.`,
);
for (const reference of [inProcess, inProcessAllCores]) {
  console.log(
    `In-process reference (castellan bench, ${workerCount(reference)}, ${reference.throughput.concurrency} in flight): ${reference.throughput.evaluationsPerSecond} evaluations/s; ` +
      `one at a time p50 ${(reference.latency.p50Micros / 1000).toFixed(2)} ms, p99 ${(reference.latency.p99Micros / 1000).toFixed(2)} ms.`,
  );
}
const worstP99 = Math.max(...ownRuns.map((row) => row.p99));
const saturation = Math.max(
  ...rows.filter((row) => row.load.startsWith('saturation')).map((row) => row.ratePerS),
);
console.log(
  `\nTarget p99 < ${P99_TARGET_MS} ms at ${FIXED_RATE}/s (own client, worse request kind): ${ms(worstP99)} ms — ${worstP99 < P99_TARGET_MS ? 'met' : 'NOT met'}.`,
);
for (const reference of [inProcess, inProcessAllCores]) {
  const rate = reference.throughput.evaluationsPerSecond;
  console.log(
    `Target saturation ≥ half the in-process rate (${workerCount(reference)}): ${saturation.toFixed(0)} req/s vs ${rate} / 2 = ${(rate / 2).toFixed(0)} — ${saturation >= rate / 2 ? 'met' : 'NOT met'} (${((200 * saturation) / rate).toFixed(0)}%).`,
  );
}
