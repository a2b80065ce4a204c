// Hostile policies beside a well-behaved one, through the admission path (`castellan up`: gateway →
// NATS → one evaluator with 2 workers): the latency of pod-privileged alone, while an endless-loop
// and a memory-bomb policy (1 s deadline) are hammered, and after; every answer is checked. Load
// generator, gateway, NATS and evaluator share the cores.
// Run after `npm run build`:  node bench/hostile-isolation.mjs [seconds per phase]
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  castellan,
  fixedRateClient,
  moduleBeside,
  ms,
  percentile,
  policyModule,
  post,
  root,
  startCastellanUp,
} from './castellan-up.mjs';

const seconds = Number(process.argv[2] ?? 10);
const WARM_UP_S = 2;
const LANES = 4;
const HOSTILE_LANES = 2;
const FIXED_RATE = 200;
const HOSTILE_TIMEOUT_S = 1;
const TARGET_RATIO = 2;
const HOSTILE = ['endless-loop', 'memory-bomb'];
const review = await readFile(`${root}examples/requests/unprivileged-pod.json`);

// --- answers ------------------------------------------------------------------------------------

/**
 * What an answer is: `allowed`; a deny by the evaluator (`deadline`: the policy overran its deadline;
 * `trap`: the guest failed, which is how a memory bomb ends; `not started`: still queued when the
 * gateway's deadline passed); `failure policy`: the gateway answered itself because no evaluator did
 * in time; anything else is named by what it is.
 */
function classify(answer) {
  if (answer.error) return { kind: `connection error`, message: answer.error.message };
  if (answer.status !== 200) return { kind: `HTTP ${answer.status}`, message: answer.text.slice(0, 120) };
  const response = JSON.parse(answer.text).response;
  const message = response?.status?.message ?? '';
  if (response?.allowed === true) return { kind: 'allowed', message };
  if (response?.status?.code !== 500) return { kind: `deny, code ${response?.status?.code}`, message };
  if (/did not answer/.test(message)) return { kind: 'failure policy', message };
  if (/stopped waiting before it started/.test(message)) return { kind: 'not started', message };
  if (/exceeded the allowed execution time|deadline exceeded/.test(message))
    return { kind: 'deadline', message };
  return { kind: 'trap', message };
}

/** Latency percentiles over every answer, and how many answers of each kind. */
function summarise(answers, wallS) {
  const latencies = answers
    .filter((answer) => !answer.error)
    .map((answer) => answer.latencyMs)
    .sort((a, b) => a - b);
  const kinds = new Map();
  const messages = new Map();
  for (const answer of answers) {
    const { kind, message } = classify(answer);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    // Messages without their numbers (ms, uids), so that the same cause is counted once.
    const shape = `${kind}: ${message.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uid>').replace(/\d+/g, 'N')}`;
    messages.set(shape, (messages.get(shape) ?? 0) + 1);
  }
  return {
    count: answers.length,
    ratePerS: answers.length / wallS,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies.at(-1),
    kinds,
    messages,
  };
}

// --- load ---------------------------------------------------------------------------------------

/** `count` closed-loop lanes: each sends its next request when the previous one is answered. */
async function lanes({ count, url, agent, durationS }) {
  const answers = [];
  const end = performance.now() + durationS * 1000;
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (performance.now() < end) answers.push(await post(agent, url, review));
    }),
  );
  return answers;
}

// --- the run ------------------------------------------------------------------------------------

const dir = await mkdtemp(join(tmpdir(), 'castellan-bench-hostile-'));
let up;
const rows = [];
const probes = [];
let loadAverage;

try {
  // The hostile test policies, annotated as the tests annotate them (metadata.yml next to the source).
  for (const name of HOSTILE) {
    await promisify(execFile)(process.execPath, [
      castellan,
      'annotate',
      `${root}test/policies/build/${name}.wasm`,
      ...['--metadata-path', `${root}test/policies/assembly/${name}/metadata.yml`],
      ...['--output', join(dir, `${name}.wasm`)],
    ]);
  }
  const policies = [
    `pod-privileged:\n  module: ${await moduleBeside(dir, policyModule)}\n`,
    ...HOSTILE.map(
      (name) =>
        `${name}:\n  module: file://${join(dir, `${name}.wasm`)}\n  timeoutEvalSeconds: ${HOSTILE_TIMEOUT_S}\n`,
    ),
  ].join('');
  loadAverage = loadavg()[0];
  up = await startCastellanUp(dir, policies);
  if (up.output().includes('✗')) throw new Error(`a policy was not loaded:\n${up.output()}`);
  const urlOf = (policyId) => `${up.origin}/validate/${policyId}`;
  const url = urlOf('pod-privileged');
  const agent = new Agent({ keepAlive: true, ca: up.ca, maxSockets: LANES });
  const hostileAgent = new Agent({ keepAlive: true, ca: up.ca, maxSockets: HOSTILE.length * HOSTILE_LANES });

  // Every policy served: its answer comes from an evaluator, not from the gateway's failure policy.
  for (const policyId of ['pod-privileged', ...HOSTILE]) {
    for (let attempt = 0; ; attempt++) {
      const answer = await post(hostileAgent, urlOf(policyId), review);
      const { kind, message } = classify(answer);
      if (kind !== 'failure policy' && !kind.startsWith('HTTP') && !kind.startsWith('connection')) {
        probes.push(`${policyId} → ${kind} in ${ms(answer.latencyMs)} ms (${message || 'no message'})`);
        break;
      }
      if (attempt === 100) throw new Error(`${policyId} not served: ${kind} ${message}\n${up.output()}`);
      await sleep(200);
    }
  }
  await lanes({ count: LANES, url, agent, durationS: WARM_UP_S });

  const attack = (durationS) =>
    Promise.all(
      HOSTILE.map((policyId) =>
        lanes({ count: HOSTILE_LANES, url: urlOf(policyId), agent: hostileAgent, durationS }),
      ),
    );
  const closedLoop = () => lanes({ count: LANES, url, agent, durationS: seconds });
  const openLoop = async () => {
    const answers = [];
    const { maxLagMs } = await fixedRateClient({
      url,
      ca: up.ca,
      request: { body: review, allowed: true },
      rate: FIXED_RATE,
      durationS: seconds,
      onAnswer: (answer) => answers.push(answer),
    });
    return Object.assign(answers, { maxLagMs });
  };

  for (const phase of ['normal', 'under attack', 'after']) {
    for (const [load, measured] of [
      [`${LANES} lanes, closed loop`, closedLoop],
      [`${FIXED_RATE}/s, open loop`, openLoop],
    ]) {
      const start = performance.now();
      let measuredS;
      const [answers, hostile] = await Promise.all([
        measured().finally(() => (measuredS = (performance.now() - start) / 1000)),
        phase === 'under attack' ? attack(seconds) : undefined,
      ]);
      const wallS = (performance.now() - start) / 1000;
      rows.push({
        phase,
        load,
        ...summarise(answers, measuredS),
        maxLagMs: answers.maxLagMs,
        hostile: hostile?.map((answers, i) => ({ policyId: HOSTILE[i], ...summarise(answers, wallS) })),
      });
    }
  }
  agent.destroy();
  hostileAgent.destroy();
} catch (error) {
  up?.kill();
  await rm(dir, { recursive: true, force: true });
  throw error;
}
await up.stop();
await rm(dir, { recursive: true, force: true });

// --- report -------------------------------------------------------------------------------------

const count = (row, kind) => row.kinds.get(kind) ?? 0;
/** Not evaluated before the gateway's deadline: a deny pod-privileged may get while starved. */
const NOT_EVALUATED = ['failure policy', 'not started'];
const notEvaluated = (row) => NOT_EVALUATED.reduce((sum, kind) => sum + count(row, kind), 0);
const others = (row, expected) =>
  [...row.kinds].filter(([kind]) => !expected.includes(kind)).reduce((sum, [, n]) => sum + n, 0);

console.log(
  `${cpus().length} cores shared by the load generator, gateway, NATS and evaluator (2 workers); ` +
    `${seconds} s per phase; 1-minute load average before the run: ${loadAverage.toFixed(2)}. ` +
    `Attack: ${HOSTILE_LANES} closed-loop lanes on each of ${HOSTILE.join(' and ')} ` +
    `(timeoutEvalSeconds: ${HOSTILE_TIMEOUT_S}); pod-privileged has the default 2 s.`,
);
console.log(
  '\n| phase | pod-privileged load | answered | req/s | p50 ms | p90 ms | p99 ms | max ms | not allowed: not evaluated in time | not allowed: other |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  console.log(
    `| ${row.phase} | ${row.load} | ${row.count} | ${row.ratePerS.toFixed(0)} | ${ms(row.p50)} | ${ms(row.p90)} | ${ms(row.p99)} | ${ms(row.max)} | ${notEvaluated(row)} | ${others(row, ['allowed', ...NOT_EVALUATED])} |`,
  );
}

const attacked = rows.filter((row) => row.hostile);
const hostileKinds = ['deadline', 'trap', 'not started', 'failure policy'];
console.log(
  '\n| during | policy | answered | deny 500: deadline | deny 500: trap | deny 500: not started | deny 500: failure policy | other | p50 ms | max ms |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const row of attacked) {
  for (const hostile of row.hostile) {
    const counts = hostileKinds.map((kind) => count(hostile, kind)).join(' | ');
    console.log(
      `| ${row.load} | ${hostile.policyId} | ${hostile.count} | ${counts} | ${others(hostile, hostileKinds)} | ${ms(hostile.p50)} | ${ms(hostile.max)} |`,
    );
  }
}
console.log('\nAnswers by message (numbers replaced by N), over the whole run:');
const messages = new Map();
for (const summary of rows.flatMap((row) => [
  { policyId: 'pod-privileged', ...row },
  ...(row.hostile ?? []),
])) {
  for (const [shape, n] of summary.messages) {
    const key = `${summary.policyId} — ${shape}`;
    messages.set(key, (messages.get(key) ?? 0) + n);
  }
}
for (const [key, n] of messages) console.log(`- ${n} × ${key}`);

console.log(`\nFirst answer of each policy (before the normal phase): ${probes.join('; ')}.`);
const lags = rows
  .filter((row) => row.maxLagMs !== undefined)
  .map((row) => `${row.phase} ${ms(row.maxLagMs)}`);
console.log(`\nOpen-loop client: worst lag behind its send schedule (ms): ${lags.join(', ')}.`);

const find = (phase, load) => rows.find((row) => row.phase === phase && row.load.endsWith(load));
const wrong =
  rows.reduce((sum, row) => sum + others(row, ['allowed', ...NOT_EVALUATED]), 0) +
  rows.filter((row) => row.phase !== 'under attack').reduce((sum, row) => sum + notEvaluated(row), 0) +
  attacked.flatMap((row) => row.hostile).reduce((sum, hostile) => sum + others(hostile, hostileKinds), 0);
console.log(
  `\nAnswers: ${wrong === 0 ? 'every' : `NOT every (${wrong} wrong)`} hostile request denied with code 500; ` +
    `pod-privileged allowed in every answer outside the attack, and under it allowed or denied as not evaluated in time only.`,
);
for (const load of ['closed loop', 'open loop']) {
  const normal = find('normal', load);
  const underAttack = find('under attack', load);
  const after = find('after', load);
  const p50Ratio = underAttack.p50 / normal.p50;
  const p99Ratio = underAttack.p99 / normal.p99;
  const met = p50Ratio <= TARGET_RATIO && p99Ratio <= TARGET_RATIO;
  console.log(
    `Target: pod-privileged within ${TARGET_RATIO}× of normal under attack (${underAttack.load}): ` +
      `p50 ${ms(underAttack.p50)} vs ${ms(normal.p50)} ms (${p50Ratio.toFixed(2)}×), ` +
      `p99 ${ms(underAttack.p99)} vs ${ms(normal.p99)} ms (${p99Ratio.toFixed(2)}×) — ${met ? 'met' : 'NOT met'}; ` +
      `after: p50 ${ms(after.p50)} ms, p99 ${ms(after.p99)} ms.`,
  );
}
