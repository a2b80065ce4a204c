// The floor of the admission path's design on this machine: what each piece that every admission
// request must cross costs on its own, in CPU time per request, with no Castellan code in it.
//   - the load generator: autocannon over keep-alive HTTPS;
//   - an HTTPS endpoint that reads the AdmissionReview, parses it and answers a small JSON document
//     (what the gateway does at the least);
//   - a NATS request/reply of the same payload with a short reply, through a local nats-server locked
//     as Castellan's is (bench/nats-hop.mjs: TLS; the requester with the gateway's credentials, the
//     responder with an evaluator's, each held to its permissions): the gateway → evaluator → gateway
//     hop, requester, responder and server;
//   - the hand-over of a request to a worker thread and of its verdict back (2 workers, each task a
//     fixed busy-wait that is subtracted);
//   - the evaluation itself: a bare in-process loop of the policy.
// Their sum bounds the throughput any implementation of this design can reach on these cores; it is
// set beside the target (half the in-process rate of `castellan bench`, on one worker and on every core).
// Run after `npm run build`:  node bench/admission-floor.mjs [seconds per measurement]
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCertificateAuthority, issueCertificate } from '@castellan/pki';
import autocannon from 'autocannon';
import { inProcessBench, processCpuMicros, root } from './castellan-up.mjs';
import { handOverProbe, ownCpuMicros } from './hand-over.mjs';
import { natsHop } from './nats-hop.mjs';
import { freeLoopbackPort, startRole } from './servers.mjs';

const require = createRequire(import.meta.url);
const CONNECTIONS = 64;
const policyModule = `${root}examples/build/pod-privileged.wasm`;
const requestPath = `${root}examples/requests/unprivileged-pod.json`;
/** Stand-in for an evaluation in the hand-over measurement; subtracted from the result. */
const TASK_BUSY_US = 100;

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
  const endpoint = await startRole(
    fileURLToPath(import.meta.url),
    'https-endpoint',
    String(port),
    certPath,
    keyPath,
  );
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
    const hop = await natsHop({ seconds, payloadPath: requestPath });
    const handOverCpu = await handOver(seconds);
    const evaluation = await bareEvaluation(Math.min(seconds, 5));
    const cores = cpus().length;
    const rates = [await inProcessRate(5, 1), await inProcessRate(5, cores)];

    const pieces = [
      ['load generator (autocannon, keep-alive HTTPS)', web.client],
      ['HTTPS endpoint: TLS, HTTP, JSON.parse of the review, a small JSON answer', web.server],
      ['NATS request/reply (TLS, credentials): requester', hop.requester],
      ['NATS request/reply (TLS, credentials): responder', hop.responder],
      ['NATS request/reply (TLS, credentials): nats-server', hop.server],
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
