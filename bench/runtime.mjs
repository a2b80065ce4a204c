// Runtime benchmark: `castellan bench` (worker thread, deadline watch, snapshot isolation, response
// building) against a bare in-process loop of the same module through the same libraries — the
// physical limit for this runtime. The two alternate for a number of rounds, so that a neighbour
// slowing the machine down for a while weighs on both; medians are compared. Each round also measures
// the hand-over floor: the same hand-over to a worker thread with a busy-wait as long as the bare call
// in place of the evaluation, the least any runtime that evaluates in worker threads pays.
// Run after `npm run build`:  node bench/runtime.mjs [seconds per measurement] [rounds]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { handOverProbe } from './hand-over.mjs';

const require = createRequire(import.meta.url);
const { instantiate } = require('@wapc/host');
const opa = require('@open-policy-agent/opa-wasm');

const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 5);
const root = fileURLToPath(new URL('..', import.meta.url));
const policy = (name) => `${root}test/policies/build/${name}.wasm`;
const requestPath = `${root}test/fixtures/admission-reviews/privileged-pod-default.json`;
const request = JSON.parse(readFileSync(requestPath, 'utf8'));

/** Calls `work` back to back for `seconds` after a warm-up; returns µs per call. */
async function loop(work) {
  const until = (end) => performance.now() < end;
  for (let end = performance.now() + 500; until(end);) await work();
  let calls = 0;
  const start = performance.now();
  for (const end = start + seconds * 1000; until(end); calls++) await work();
  return ((performance.now() - start) * 1000) / calls;
}

async function bareWapc(name, settings) {
  const host = await instantiate(readFileSync(policy(name)));
  const payload = new TextEncoder().encode(JSON.stringify({ request, settings }));
  return loop(() => host.invoke('validate', payload));
}

async function bareGatekeeper(name, settings) {
  const loaded = opa.loadPolicySync(readFileSync(policy(name)), { initial: 5 }, {});
  loaded.setData({});
  const input = { parameters: settings, review: request };
  return loop(() => loaded.evaluate(input));
}

async function bareOpa(name, settings) {
  const loaded = opa.loadPolicySync(readFileSync(policy(name)), { initial: 5 }, {});
  loaded.setData(settings);
  const input = { request };
  return loop(() => loaded.evaluate(input));
}

function castellanBench(name, settings, mode) {
  const args = ['bench', policy(name), '-r', requestPath, '--settings-json', JSON.stringify(settings)];
  if (mode) args.push('-e', mode);
  args.push('--duration', String(seconds), '-o', 'json');
  const out = execFileSync(process.execPath, [`${root}packages/cli/bin/castellan.js`, ...args], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

/**
 * The least a worker-thread runtime can cost: worker time per task when each task is a busy-wait as
 * long as the bare call, handed over as `castellan bench` does (1 worker, 4 in flight).
 */
async function handOverFloor(busyUs) {
  const { tasks, wallMs } = await handOverProbe({
    workers: 1,
    inFlightPerWorker: 4,
    busyUs,
    seconds,
    requestJson: JSON.stringify(request),
  });
  return (wallMs * 1000) / tasks;
}

const cases = [
  { name: 'pod-privileged', mode: undefined, settings: {}, bare: bareWapc },
  {
    name: 'rego-gatekeeper',
    mode: 'gatekeeper',
    settings: { forbiddenLabels: ['owner'] },
    bare: bareGatekeeper,
  },
  { name: 'rego-opa', mode: 'opa', settings: { deniedNamespaces: ['kube-system'] }, bare: bareOpa },
];

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const range = (values) => `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}`;

console.log(
  `| policy | mode | bare loop µs/eval, median (range) | castellan µs/eval (1 worker, 4 in flight), median (range) | ratio of medians (range of per-round ratios) | castellan latency p50 / p99 (one at a time), median | hand-over floor: median (range) |`,
);
console.log('|---|---|---|---|---|---|---|');
for (const c of cases) {
  const bare = [];
  const reports = [];
  const handOver = [];
  for (let round = 0; round < rounds; round++) {
    bare.push(await c.bare(c.name, c.settings));
    reports.push(castellanBench(c.name, c.settings, c.mode));
    handOver.push(await handOverFloor(bare[round]));
  }
  const floorRatios = handOver.map((value, round) => value / bare[round]);
  const cost = reports.map((report) => report.throughput.microsPerEvaluation);
  const ratios = cost.map((value, round) => value / bare[round]);
  const p50 = median(reports.map((report) => report.latency.p50Micros));
  const p99 = median(reports.map((report) => report.latency.p99Micros));
  console.log(
    `| ${c.name} | ${reports[0].executionMode} | ${median(bare).toFixed(1)} (${range(bare)}) | ${median(cost).toFixed(1)} (${range(cost)}) | ${(median(cost) / median(bare)).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×) | ${p50.toFixed(0)} µs / ${p99.toFixed(0)} µs | ${median(floorRatios).toFixed(2)}× (${Math.min(...floorRatios).toFixed(2)}–${Math.max(...floorRatios).toFixed(2)}×) |`,
  );
}
