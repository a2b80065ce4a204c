// Admission-path load benchmark: HTTPS AdmissionReviews through `castellan up` (gateway → NATS → one
// evaluator with 2 workers), at a fixed rate and at saturation, against the in-process evaluation rate
// of the same policy (`castellan bench`). Load generator, gateway, NATS and evaluator share the cores.
// Run after `npm run build`:  node bench/gateway-load.mjs [seconds per phase]
import { execFile, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect } from '@nats-io/transport-node';
import autocannon from 'autocannon';
import { freeLoopbackPort } from './servers.mjs';

const seconds = Number(process.argv[2] ?? 10);
const FIXED_RATE = 500;
const SATURATION_CONNECTIONS = [32, 64];
const P99_TARGET_MS = 5;
const root = fileURLToPath(new URL('..', import.meta.url));
const castellan = `${root}packages/cli/bin/castellan.js`;
const policyModule = `${root}examples/build/pod-privileged.wasm`;
const requests = {
  allowed: { path: `${root}examples/requests/unprivileged-pod.json`, allowed: true },
  denied: { path: `${root}examples/requests/privileged-pod.json`, allowed: false },
};
for (const request of Object.values(requests)) request.body = await readFile(request.path);

// --- statistics ---------------------------------------------------------------------------------

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const ms = (value) => (value === undefined ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(1));

// --- castellan up -------------------------------------------------------------------------------

/** Child pids of `pid`, recursively (the services and NATS run in process groups of their own). */
function descendants(pid) {
  let children = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
  } catch {
    // ps exits 1 when there are none
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startCastellanUp(dir) {
  const port = await freeLoopbackPort();
  const readinessPort = await freeLoopbackPort();
  const policiesPath = join(dir, 'policies.yml');
  await writeFile(policiesPath, `pod-privileged:\n  module: file://${policyModule}\n`);
  const stateDir = join(dir, 'state');
  const env = { ...process.env };
  delete env.NATS_URL; // castellan up then starts its own nats-server
  const child = spawn(
    process.execPath,
    [
      castellan,
      'up',
      ...['--policies', policiesPath, '--port', String(port), '--readiness-port', String(readinessPort)],
      ...['--state-dir', stateDir, '--workers', '2'],
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Interrupting the benchmark must not leave castellan up (a process group of its own) running.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      killTree(child.pid);
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  }
  let output = '';
  let natsUrl;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`castellan up not up after 60 s:\n${output}`)), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`;
      natsUrl ??= /NATS\s+(nats:\/\/\S+)/.exec(line)?.[1];
      if (line.includes('Castellan is up')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    void exited.then((code) => reject(new Error(`castellan up exited with ${code}:\n${output}`)));
  }).catch(async (error) => {
    killTree(child.pid);
    throw error;
  });

  return {
    pid: child.pid,
    url: `https://127.0.0.1:${port}/validate/pod-privileged`,
    metricsUrl: `http://127.0.0.1:${readinessPort}/metrics`,
    natsUrl,
    ca: await readFile(join(stateDir, 'tls', 'ca.pem')),
    /** Ctrl-C, as a user would; whatever is still running after it is killed and reported. */
    async stop() {
      const tree = descendants(child.pid);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => killTree(child.pid, tree), 30_000);
        await exited;
        clearTimeout(timer);
      }
      const leftOver = tree.filter(alive);
      for (const pid of leftOver) process.kill(pid, 'SIGKILL');
      if (leftOver.length > 0)
        console.error(`castellan up left ${leftOver.length} processes running; killed`);
    },
    kill: () => killTree(child.pid),
  };
}

function killTree(pid, tree = descendants(pid)) {
  for (const target of [-pid, ...tree]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The processes of `castellan up` and this one (the load generator), by role. */
async function roles(upPid) {
  const named = [
    { role: 'load generator', pid: process.pid },
    { role: 'castellan up', pid: upPid },
  ];
  for (const pid of descendants(upPid)) {
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
    const role = /nats-server|gateway|evaluator|fetcher/.exec(command)?.[0];
    if (role) named.push({ role, pid });
  }
  return named;
}

const CLOCK_TICKS_PER_S = 100;

/** CPU time (user + system) used so far by each process, in ms. */
async function cpuTimes(processes) {
  const times = new Map();
  for (const { role, pid } of processes) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    times.set(role, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S);
  }
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

// --- load generators ----------------------------------------------------------------------------

/**
 * Open-loop client at a fixed rate: request i is sent at start + i/rate whatever is still in flight,
 * over keep-alive HTTPS that verifies the gateway's certificate. Latency is from writing the request
 * to the end of the response, in µs resolution.
 */
async function fixedRateClient({ url, ca, request, rate, durationS }) {
  const agent = new Agent({ keepAlive: true, ca, maxSockets: 256 });
  const total = Math.round(rate * durationS);
  const intervalNs = BigInt(Math.round(1e9 / rate));
  const latencies = [];
  let errors = 0;
  let non2xx = 0;
  let wrongVerdict = 0;
  let maxLagMs = 0;
  let done = 0;
  const start = process.hrtime.bigint();

  await new Promise((resolve) => {
    const finish = () => {
      if (++done === total) resolve();
    };
    const send = () => {
      const sentAt = process.hrtime.bigint();
      const req = httpsRequest(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': request.body.length },
        },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
            if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
            else if (JSON.parse(Buffer.concat(chunks).toString()).response?.allowed !== request.allowed) {
              wrongVerdict++;
            }
            finish();
          });
        },
      );
      req.on('error', () => {
        errors++;
        finish();
      });
      req.end(request.body);
    };
    let sent = 0;
    const tick = () => {
      const now = process.hrtime.bigint();
      for (let due = start + BigInt(sent) * intervalNs; sent < total && due <= now;) {
        maxLagMs = Math.max(maxLagMs, Number(now - due) / 1e6);
        send();
        sent++;
        due = start + BigInt(sent) * intervalNs;
      }
      if (sent < total) {
        const next = start + BigInt(sent) * intervalNs;
        setTimeout(tick, Math.max(0, Number(next - process.hrtime.bigint()) / 1e6 - 0.5));
      }
    };
    tick();
  });
  const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: total,
    ratePerS: total / elapsedS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    p999: percentile(latencies, 99.9),
    max: latencies.at(-1),
    errors,
    non2xx,
    wrongVerdict,
    maxLagMs,
  };
}

/** autocannon (no certificate verification; latency in whole milliseconds). */
async function cannon({ url, request, connections, durationS, overallRate }) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: request.body,
    connections,
    duration: durationS,
    ...(overallRate && { overallRate }),
  });
  return {
    ratePerS: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    max: result.latency.max,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** Request/reply round trips on castellan's own NATS with an AdmissionReview-sized payload and an echo responder. */
async function natsEcho(natsUrl, payload, count = 2000) {
  const responder = await connect({ servers: natsUrl });
  const requester = await connect({ servers: natsUrl });
  const subject = 'bench.echo';
  const sub = responder.subscribe(subject, { callback: (_error, message) => message.respond(message.data) });
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
const up = await startCastellanUp(dir);
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
    await fixedRateClient({ url: up.url, ca: up.ca, request, rate: FIXED_RATE, durationS: 2 });
  }
  echo = await natsEcho(up.natsUrl, requests.allowed.body);

  for (const [name, request] of Object.entries(requests)) {
    await phase(name, `${FIXED_RATE}/s, own client`, () =>
      fixedRateClient({ url: up.url, ca: up.ca, request, rate: FIXED_RATE, durationS: seconds }),
    );
    await phase(name, `${FIXED_RATE}/s, autocannon 8 conns`, () =>
      cannon({ url: up.url, request, connections: 8, durationS: seconds, overallRate: FIXED_RATE }),
    );
  }
  for (const connections of SATURATION_CONNECTIONS) {
    for (const [name, request] of Object.entries(requests)) {
      await phase(name, `saturation, autocannon ${connections} conns`, () =>
        cannon({ url: up.url, request, connections, durationS: seconds }),
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

// In-process reference, with the cores to itself now that castellan up is stopped.
const inProcess = JSON.parse(
  (
    await promisify(execFile)(process.execPath, [
      castellan,
      'bench',
      policyModule,
      ...['-r', requests.allowed.path, '--duration', '5', '--concurrency', '2', '-o', 'json'],
    ])
  ).stdout,
);

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

const roleNames = processes.map(({ role }) => role);
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
const rate = inProcess.throughput.evaluationsPerSecond;
console.log(
  `In-process reference (castellan bench, ${inProcess.workers} worker, ${inProcess.throughput.concurrency} in flight): ${rate} evaluations/s; ` +
    `one at a time p50 ${(inProcess.latency.p50Micros / 1000).toFixed(2)} ms, p99 ${(inProcess.latency.p99Micros / 1000).toFixed(2)} ms.`,
);
const worstP99 = Math.max(...ownRuns.map((row) => row.p99));
const saturation = Math.max(
  ...rows.filter((row) => row.load.startsWith('saturation')).map((row) => row.ratePerS),
);
console.log(
  `\nTarget p99 < ${P99_TARGET_MS} ms at ${FIXED_RATE}/s (own client, worse request kind): ${ms(worstP99)} ms — ${worstP99 < P99_TARGET_MS ? 'met' : 'NOT met'}.`,
);
console.log(
  `Target saturation ≥ half the in-process rate: ${saturation.toFixed(0)} req/s vs ${rate} / 2 = ${(rate / 2).toFixed(0)} — ${saturation >= rate / 2 ? 'met' : 'NOT met'}.`,
);
