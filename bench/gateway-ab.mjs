// Two builds' admission paths, loaded in turn: `castellan up` of this checkout and of another one
// (a git worktree of another commit, built), both up for the whole run, each with pod-privileged as
// bench/gateway-load.mjs serves it. Every round loads each in turn (A B, then B A) with a saturation
// phase (autocannon, 64 connections, the allowed request) and a 500/s phase of the own client (the
// denied request), so that a neighbour slowing the shared machine for a while weighs on both; medians
// are compared. The idle one keeps only its heartbeats. Figures: requests/s, CPU µs per request of
// the load generator and every process of the loaded `castellan up`, own-client p99 and p50.
// Run after `npm run build` in both:  node bench/gateway-ab.mjs <other checkout> [rounds] [seconds]
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  autocannonClient,
  descendants,
  exampleRequests,
  fixedRateClient,
  median,
  moduleBeside,
  ms,
  policyModule,
  processCpuMs,
  root,
  startCastellanUp,
} from './castellan-up.mjs';
import { ownCpuMicros } from './hand-over.mjs';

const other = `${resolve(process.argv[2] ?? '')}/`;
const rounds = Number(process.argv[3] ?? 6);
const seconds = Number(process.argv[4] ?? 5);
const CONNECTIONS = 64;
const FIXED_RATE = 500;
const requests = await exampleRequests();
const checkouts = { A: other, B: root };

/** CPU ms used so far by `castellan up` and everything it started. */
async function upCpuMs(pid) {
  let total = 0;
  for (const child of [pid, ...descendants(pid)]) total += await processCpuMs(child).catch(() => 0);
  return total;
}

/** `run()` on `up`, and the CPU µs per request it cost the load generator and `castellan up`. */
async function measured(up, run) {
  const [upBefore, ownBefore] = [await upCpuMs(up.pid), ownCpuMicros()];
  const result = await run();
  const [upAfter, ownAfter] = [await upCpuMs(up.pid), ownCpuMicros()];
  const answered = Math.round(result.ratePerS * seconds);
  return { ...result, cpuPerRequest: ((upAfter - upBefore) * 1000 + ownAfter - ownBefore) / answered };
}

const dirs = [];
const ups = {};
try {
  for (const [name, checkout] of Object.entries(checkouts)) {
    const dir = await mkdtemp(join(tmpdir(), `castellan-bench-ab-${name}-`));
    dirs.push(dir);
    const policies = `pod-privileged:\n  module: ${await moduleBeside(dir, policyModule)}\n`;
    ups[name] = await startCastellanUp(dir, policies, { checkout });
  }
  const url = (name) => `${ups[name].origin}/validate/pod-privileged`;
  const saturation = (name) =>
    measured(ups[name], () =>
      autocannonClient({
        url: url(name),
        request: requests.allowed,
        connections: CONNECTIONS,
        durationS: seconds,
      }),
    );
  const fixedRate = (name, durationS = seconds) =>
    fixedRateClient({
      url: url(name),
      ca: ups[name].ca,
      request: requests.denied,
      rate: FIXED_RATE,
      durationS,
    });
  for (const name of Object.keys(ups)) {
    await fixedRate(name, 2);
    await saturation(name);
  }

  const loadAverage = loadavg()[0];
  const results = { A: [], B: [] };
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 ? ['B', 'A'] : ['A', 'B']) {
      const sat = await saturation(name);
      const fixed = await fixedRate(name);
      results[name].push({ sat, fixed });
    }
  }

  const cell = (values, format = (value) => value.toFixed(0)) =>
    `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
  const figures = {
    'saturation req/s': [(r) => r.sat.ratePerS],
    'CPU µs per request at saturation': [(r) => r.sat.cpuPerRequest],
    [`own-client p50 ms at ${FIXED_RATE}/s`]: [(r) => r.fixed.p50, ms],
    [`own-client p99 ms at ${FIXED_RATE}/s`]: [(r) => r.fixed.p99, ms],
    'own-client worst lag ms': [(r) => r.fixed.maxLagMs, ms],
  };
  console.log(
    `${cpus().length} cores; ${rounds} rounds of ${seconds} s phases; 1-minute load average before the rounds: ${loadAverage.toFixed(2)}.` +
      `\nA: ${checkouts.A}\nB: ${checkouts.B}\nmedian (min–max) over the rounds:\n`,
  );
  console.log('| figure | A | B | B ÷ A (medians) | B ÷ A per round |');
  console.log('|---|---|---|---|---|');
  for (const [figure, [of, format]] of Object.entries(figures)) {
    const [a, b] = [results.A.map(of), results.B.map(of)];
    const perRound = a.map((value, i) => b[i] / value);
    console.log(
      `| ${figure} | ${cell(a, format)} | ${cell(b, format)} | ${(median(b) / median(a)).toFixed(3)} | ${cell(perRound, (value) => value.toFixed(2))} |`,
    );
  }
  const errors = Object.values(results)
    .flat()
    .reduce(
      (sum, { sat, fixed }) =>
        sum + sat.errors + sat.non2xx + fixed.errors + fixed.non2xx + fixed.wrongVerdict,
      0,
    );
  console.log(`\nErrors, non-2xx answers and wrong verdicts over every phase: ${errors}.`);
} finally {
  for (const up of Object.values(ups)) await up.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}
