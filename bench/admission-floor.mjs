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
// set beside the target (half the in-process rate of `castellan bench`).
// Run after `npm run build`:  node bench/admission-floor.mjs [seconds per measurement]
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createCertificateAuthority, issueCertificate } from '@castellan/pki';
import { connect } from '@nats-io/transport-node';
import autocannon from 'autocannon';
import { castellan, processCpuMs, root } from './castellan-up.mjs';
import { freeLoopbackPort, startNats } from './servers.mjs';

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

const ownCpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

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

if (!isMainThread) {
  parentPort.on('message', (task) => {
    const until = performance.now() + workerData.busyMs;
    while (performance.now() < until);
    parentPort.postMessage({
      seq: task.seq,
      result: { uid: task.uid, allowed: true },
      ranMs: workerData.busyMs,
    });
  });
}

/** Requests handed to 2 workers (2 in flight each) and verdicts back: CPU µs per request. */
async function handOver(seconds) {
  const requestJson = JSON.stringify(JSON.parse(await readFile(requestPath, 'utf8')).request);
  const workers = Array.from(
    { length: 2 },
    () => new Worker(new URL(import.meta.url), { workerData: { busyMs: TASK_BUSY_US / 1000 } }),
  );
  let done = 0;
  let seq = 0;
  let end = 0;
  const finished = Promise.all(
    workers.map(
      (worker) =>
        new Promise((resolve) => {
          let inFlight = 0;
          const send = () => {
            inFlight++;
            worker.postMessage({ kind: 'validate', seq: ++seq, uid: 'u', requestJson });
          };
          worker.on('message', () => {
            done++;
            inFlight--;
            if (performance.now() < end) send();
            else if (inFlight === 0) resolve();
          });
          worker.once('online', () => {
            end = performance.now() + seconds * 1000;
            send();
            send();
          });
        }),
    ),
  );
  const cpuBefore = ownCpuMicros();
  await finished;
  const cpuPerRequest = (ownCpuMicros() - cpuBefore) / done - TASK_BUSY_US;
  await Promise.all(workers.map((worker) => worker.terminate()));
  return cpuPerRequest;
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

async function inProcessRate(seconds) {
  const { stdout } = await promisify(execFile)(process.execPath, [
    castellan,
    'bench',
    policyModule,
    ...['-r', requestPath, '--duration', String(seconds), '--concurrency', '2', '-o', 'json'],
  ]);
  return JSON.parse(stdout).throughput.evaluationsPerSecond;
}

async function main() {
  const seconds = Number(process.argv[2] ?? 10);
  const dir = await mkdtemp(join(tmpdir(), 'castellan-bench-floor-'));
  try {
    const web = await https(seconds, dir);
    const hop = await nats(seconds);
    const handOverCpu = await handOver(seconds);
    const evaluation = await bareEvaluation(Math.min(seconds, 5));
    const rate = await inProcessRate(5);

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
    const cores = cpus().length;
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
        `target (half the in-process rate, ${rate} evaluations/s): ${(rate / 2).toFixed(0)} req/s.`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  const role = roles[process.argv[2]];
  if (role) await role(...process.argv.slice(3));
  else await main();
}
