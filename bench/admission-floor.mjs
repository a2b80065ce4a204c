// The floor of the admission path's design on this machine: what each piece that every admission
// request must cross costs on its own, in CPU time per request, with no Castellan code in it.
//   - the load generator: autocannon over keep-alive HTTPS;
//   - an HTTPS endpoint that reads the AdmissionReview, parses it and answers a small JSON document
//     (what the gateway does at the least);
//   - a NATS request/reply of the same payload with a short reply, through a local nats-server (the
//     gateway → evaluator → gateway hop: requester, responder and server);
//   - the hand-over of a request to a worker thread and of its verdict back (2 workers, each task a
//     fixed busy-wait that is subtracted);
//   - the evaluation itself: a bare in-process loop of the policy.
// Their sum bounds the throughput any implementation of this design can reach on these cores; it is
// set beside the target (half the in-process rate of `castellan bench`, on one worker and on every core).
// Run after `npm run build`:  node bench/admission-floor.mjs [seconds per measurement]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate } from '@castellan/pki';
import { connect } from '@nats-io/transport-node';
import autocannon from 'autocannon';
import { inProcessBench, processCpuMs, root } from './castellan-up.mjs';
import { freeLoopbackPort, startNats } from './servers.mjs';
import { handOverProbe, ownCpuMicros } from './hand-over.mjs';

const require = createRequire(import.meta.url);
const CONNECTIONS = 64;
const IN_FLIGHT = 64;
const policyModule = `${root}examples/build/pod-privileged.wasm`;
const requestPath = `${root}examples/requests/unprivileged-pod.json`;
/** A verdict as the evaluator returns it: an allowed AdmissionResponse in a small envelope. */
const VERDICT = JSON.stringify({
  ok: true,
  response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true },
});
/** Stand-in for an evaluation in the hand-over measurement; subtracted from the result. */
const TASK_BUSY_US = 100;

/** CPU time (user + system) a process has used so far, in µs. */
const processCpuMicros = async (pid) => (await processCpuMs(pid)) * 1000;

/** Starts this script in `role`, and resolves once it printed `ready`. */
async function startRole(role, ...args) {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, role, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
  return {
    pid: child.pid,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', resolve).kill();
      }),
  };
}

// --- roles (child processes) --------------------------------------------------------------------

const roles = {
  /** HTTPS endpoint: reads the body, parses it, answers a small AdmissionReview. */
  async 'https-endpoint'(port, certPath, keyPath) {
    const server = createServer(
      { cert: await readFile(certPath), key: await readFile(keyPath) },
      (req, res) => {
        const chunks = [];
        req.on('data', (chunk) => chunks.push(chunk));
        req.on('end', () => {
          const review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          const body = JSON.stringify({
            apiVersion: review.apiVersion,
            kind: review.kind,
            response: { uid: review.request.uid, allowed: true },
          });
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          });
          res.end(body);
        });
      },
    );
    server.keepAliveTimeout = 60_000;
    server.listen(Number(port), '127.0.0.1', () => console.log('ready'));
  },

  /** NATS responder in a queue group, answering every request with a verdict-sized reply. */
  async 'nats-responder'(url) {
    const nc = await connect({ servers: url });
    const reply = new TextEncoder().encode(VERDICT);
    nc.subscribe('floor.evaluate', { queue: 'floor', callback: (_error, msg) => msg.respond(reply) });
    await nc.flush();
    console.log('ready');
  },

  /** NATS requester: from SIGUSR2 on, `IN_FLIGHT` requests of the AdmissionReview payload at all times. */
  async 'nats-requester'(url, seconds) {
    const nc = await connect({ servers: url });
    const payload = await readFile(requestPath);
    console.log('ready');
    await new Promise((resolve) => process.once('SIGUSR2', resolve));
    let requests = 0;
    const end = performance.now() + Number(seconds) * 1000;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (performance.now() < end) {
          await nc.request('floor.evaluate', payload, { timeout: 5000 });
          requests++;
        }
      }),
    );
    // Stays connected (and alive) until stopped, so that its CPU time can still be read.
    console.log(`requests ${requests}`);
  },
};

// --- hand-over to worker threads ----------------------------------------------------------------

/** Requests handed to 2 workers (2 in flight each) and verdicts back: CPU µs per request. */
async function handOver(seconds) {
  const requestJson = JSON.stringify(JSON.parse(await readFile(requestPath, 'utf8')).request);
  const { tasks, cpuMicros } = await handOverProbe({
    workers: 2,
    inFlightPerWorker: 2,
    busyUs: TASK_BUSY_US,
    seconds,
    requestJson,
  });
  return cpuMicros / tasks - TASK_BUSY_US;
}

// --- the measurements ---------------------------------------------------------------------------

async function https(seconds, dir) {
  const ca = await createCertificateAuthority({ commonName: 'floor-ca', validityDays: 1 });
  const serving = await issueCertificate(ca, {
    commonName: 'floor',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    validityDays: 1,
  });
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await writeFile(certPath, serving.certPem);
  await writeFile(keyPath, serving.keyPem);
  const port = await freeLoopbackPort();
  const endpoint = await startRole('https-endpoint', String(port), certPath, keyPath);
  try {
    const load = {
      url: `https://127.0.0.1:${port}/validate/floor`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: await readFile(requestPath),
      connections: CONNECTIONS,
    };
    await autocannon({ ...load, duration: 2 });
    const [serverBefore, clientBefore] = [await processCpuMicros(endpoint.pid), ownCpuMicros()];
    const result = await autocannon({ ...load, duration: seconds });
    const [serverAfter, clientAfter] = [await processCpuMicros(endpoint.pid), ownCpuMicros()];
    const requests = result.requests.total;
    return {
      rate: result.requests.average,
      client: (clientAfter - clientBefore) / requests,
      server: (serverAfter - serverBefore) / requests,
    };
  } finally {
    await endpoint.stop();
  }
}

async function nats(seconds) {
  const server = await startNats();
  const responder = await startRole('nats-responder', server.url);
  const requester = await startRole('nats-requester', server.url, String(seconds));
  try {
    const pids = { requester: requester.pid, responder: responder.pid, server: server.pid };
    const before = Object.fromEntries(
      await Promise.all(Object.entries(pids).map(async ([role, pid]) => [role, await processCpuMicros(pid)])),
    );
    process.kill(requester.pid, 'SIGUSR2');
    await new Promise((resolve) => {
      const poll = setInterval(() => {
        if (!requester.output().includes('requests ')) return;
        clearInterval(poll);
        resolve();
      }, 50);
    });
    const requests = Number(/requests (\d+)/.exec(requester.output())[1]);
    const perRequest = {};
    for (const [role, pid] of Object.entries(pids))
      perRequest[role] = ((await processCpuMicros(pid)) - before[role]) / requests;
    return { rate: requests / seconds, ...perRequest };
  } finally {
    await Promise.all([responder.stop(), requester.stop(), server.stop()]);
  }
}

/** µs per call of the policy in a bare in-process loop (as bench/runtime.mjs measures it). */
async function bareEvaluation(seconds) {
  const { instantiate } = require('@wapc/host');
  const host = await instantiate(await readFile(policyModule));
  const request = JSON.parse(await readFile(requestPath, 'utf8')).request;
  const payload = new TextEncoder().encode(JSON.stringify({ request, settings: {} }));
  for (let end = performance.now() + 500; performance.now() < end;) await host.invoke('validate', payload);
  let calls = 0;
  const start = performance.now();
  for (const end = start + seconds * 1000; performance.now() < end; calls++)
    await host.invoke('validate', payload);
  return ((performance.now() - start) * 1000) / calls;
}

async function inProcessRate(seconds, workers) {
  const report = await inProcessBench({ module: policyModule, requestPath, seconds, workers });
  return report.throughput.evaluationsPerSecond;
}

async function main() {
  const seconds = Number(process.argv[2] ?? 10);
  const dir = await mkdtemp(join(tmpdir(), 'castellan-bench-floor-'));
  try {
    const web = await https(seconds, dir);
    const hop = await nats(seconds);
    const handOverCpu = await handOver(seconds);
    const evaluation = await bareEvaluation(Math.min(seconds, 5));
    const cores = cpus().length;
    const rates = [await inProcessRate(5, 1), await inProcessRate(5, cores)];

    const pieces = [
      ['load generator (autocannon, keep-alive HTTPS)', web.client],
      ['HTTPS endpoint: TLS, HTTP, JSON.parse of the review, a small JSON answer', web.server],
      ['NATS request/reply: requester', hop.requester],
      ['NATS request/reply: responder', hop.responder],
      ['NATS request/reply: nats-server', hop.server],
      ['hand-over to a worker thread and back (2 workers)', handOverCpu],
      ['evaluation: bare in-process loop of pod-privileged', evaluation],
    ];
    const floor = pieces.reduce((sum, [, micros]) => sum + micros, 0);
    console.log(
      `${cores} cores; ${seconds} s per measurement; request: ${requestPath.slice(root.length)}.\n`,
    );
    console.log('| piece | CPU µs per request |');
    console.log('|---|---|');
    for (const [piece, micros] of pieces) console.log(`| ${piece} | ${micros.toFixed(0)} |`);
    console.log(`| **sum: the floor of the design** | **${floor.toFixed(0)}** |`);
    console.log(
      `\nAlone: the HTTPS endpoint answered ${web.rate.toFixed(0)} req/s, the NATS hop ${hop.rate.toFixed(0)} req/s.`,
    );
    const ceiling = (cores * 1e6) / floor;
    console.log(
      `Ceiling with every core busy: ${cores} × 10⁶ / ${floor.toFixed(0)} = ${ceiling.toFixed(0)} req/s; ` +
        `target (half the in-process rate, ${rates[0]} evaluations/s on 1 worker, ${rates[1]} on ${cores}): ` +
        `${(rates[0] / 2).toFixed(0)} or ${(rates[1] / 2).toFixed(0)} req/s.`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const role = roles[process.argv[2]];
if (role) await role(...process.argv.slice(3));
else await main();
