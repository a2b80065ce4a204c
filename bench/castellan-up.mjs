// `castellan up` for the admission-path benchmarks: start it on free loopback ports with a given
// policies file, stop it (and whatever it started), and post AdmissionReviews to its gateway over
// keep-alive HTTPS that verifies the gateway's certificate.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { castellanUpBus, freeLoopbackPort } from './servers.mjs';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const castellan = `${root}packages/cli/bin/castellan.js`;
/** The policy of the admission-path benchmarks, and the two requests it allows and denies. */
export const policyModule = `${root}examples/build/pod-privileged.wasm`;
export async function exampleRequests() {
  const requests = {
    allowed: { path: `${root}examples/requests/unprivileged-pod.json`, allowed: true },
    denied: { path: `${root}examples/requests/privileged-pod.json`, allowed: false },
  };
  for (const request of Object.values(requests)) request.body = await readFile(request.path);
  return requests;
}

// --- statistics ---------------------------------------------------------------------------------

export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
export const ms = (value) => (value === undefined ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(1));

const CLOCK_TICKS_PER_S = 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc (10 ms ticks). */
export async function processCpuMs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/** The same in µs. */
export const processCpuMicros = async (pid) => (await processCpuMs(pid)) * 1000;

// --- in-process reference -----------------------------------------------------------------------

/**
 * `castellan bench` of `module` with the request at `requestPath` on `workers` worker threads, 2
 * evaluations in flight per worker: its JSON report.
 */
export async function inProcessBench({ module, requestPath, seconds, workers }) {
  const { stdout } = await promisify(execFile)(process.execPath, [
    castellan,
    'bench',
    module,
    ...['-r', requestPath, '--duration', String(seconds), '--concurrency', String(2 * workers)],
    ...['--workers', String(workers), '-o', 'json'],
  ]);
  return JSON.parse(stdout);
}

// --- castellan up -------------------------------------------------------------------------------

/** Child pids of `pid`, recursively (the services and NATS run in process groups of their own). */
export function descendants(pid) {
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

/**
 * A copy of the module at `path` in `dir`, beside the policies file {@link startCastellanUp} writes
 * there (the only directory its fetcher reads `file://` modules from): its `file://` URL.
 */
export async function moduleBeside(dir, path) {
  const copy = join(dir, basename(path));
  await copyFile(path, copy);
  return pathToFileURL(copy).href;
}

/**
 * Starts `castellan up` with `policies` (the text of a policies file; its `file://` modules in
 * `dir`, see {@link moduleBeside}) in `dir`, detached, and waits for `Castellan is up`. `origin` is
 * the gateway's HTTPS origin; `bus()` reaches its locked NATS as any identity (see servers.mjs);
 * `output()` is everything it printed. `checkout`: the repository whose `castellan` runs, this one
 * by default.
 */
export async function startCastellanUp(dir, policies, { checkout = root } = {}) {
  const port = await freeLoopbackPort();
  const readinessPort = await freeLoopbackPort();
  const policiesPath = join(dir, 'policies.yml');
  await writeFile(policiesPath, policies);
  const stateDir = join(dir, 'state');
  const env = { ...process.env };
  delete env.NATS_URL; // castellan up then starts its own nats-server
  const child = spawn(
    process.execPath,
    [
      `${checkout}packages/cli/bin/castellan.js`,
      'up',
      ...['--policies', policiesPath, '--port', String(port), '--readiness-port', String(readinessPort)],
      ...['--state-dir', stateDir, '--workers', '2'],
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  killOnInterrupt(child.pid, dir);
  void exited.then(() => killedOnInterrupt.delete(child.pid));
  let output = '';
  let natsUrl;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`castellan up not up after 60 s:\n${output}`)), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`;
      natsUrl ??= /NATS\s+((?:nats|tls):\/\/\S+)/.exec(line)?.[1];
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
    origin: `https://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${readinessPort}/metrics`,
    bus: () => castellanUpBus(natsUrl, join(stateDir, 'bus'), join(dir, 'bench-creds')),
    ca: await readFile(join(stateDir, 'tls', 'ca.pem')),
    output: () => output,
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

/**
 * Every `castellan up` still running, and its directory: interrupting the benchmark must not leave
 * one (a process group of its own) running.
 */
const killedOnInterrupt = new Map();
let interruptHandled = false;

function killOnInterrupt(pid, dir) {
  if (!interruptHandled) {
    interruptHandled = true;
    for (const signal of ['SIGINT', 'SIGTERM']) {
      process.once(signal, () => {
        for (const [running, itsDir] of killedOnInterrupt) {
          killTree(running);
          rmSync(itsDir, { recursive: true, force: true });
        }
        process.exit(130);
      });
    }
  }
  killedOnInterrupt.set(pid, dir);
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

// --- requests -----------------------------------------------------------------------------------

/**
 * POSTs a JSON body; resolves (never rejects) with `{ status, text, latencyMs }`, the latency from
 * writing the request to the end of its response, or with `{ error }`.
 */
export function post(agent, url, body) {
  return new Promise((resolve) => {
    const sentAt = process.hrtime.bigint();
    const req = httpsRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const latencyMs = Number(process.hrtime.bigint() - sentAt) / 1e6;
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString(), latencyMs });
        });
      },
    );
    req.on('error', (error) => resolve({ error }));
    req.end(body);
  });
}

/** autocannon (no certificate verification; latency in whole milliseconds). */
export async function autocannonClient({ url, request, connections, durationS, overallRate }) {
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

/**
 * Open-loop client at a fixed rate: request i is sent at start + i/rate whatever is still in flight,
 * over keep-alive HTTPS that verifies the gateway's certificate. Latency is from writing the request
 * to the end of the response, in µs resolution. `onAnswer`, if given, sees every answer (or error).
 */
export async function fixedRateClient({ url, ca, request, rate, durationS, onAnswer }) {
  // No Nagle, as the API server's Go client.
  const agent = new Agent({ keepAlive: true, ca, maxSockets: 256, noDelay: true });
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
    const send = () =>
      void post(agent, url, request.body).then((answer) => {
        onAnswer?.(answer);
        if (answer.error) errors++;
        else {
          latencies.push(answer.latencyMs);
          if (answer.status < 200 || answer.status > 299) non2xx++;
          else if (JSON.parse(answer.text).response?.allowed !== request.allowed) wrongVerdict++;
        }
        if (++done === total) resolve();
      });
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
