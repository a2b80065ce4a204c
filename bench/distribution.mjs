// Policy distribution benchmark: how long a module of 1, 5 and 20 MB takes to come out of a registry
// (cold client), through the fetcher service (download + store, then index hit), and out of the
// JetStream object store (verified reads, one at a time and 8 in parallel).
// Run after `npm run build`:  node bench/distribution.mjs [runs]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ModuleStore } from '@castellan/module-store';
import { ModuleDistributionClient } from '@castellan/oci';
import { Subject, decodeFetchReply, encodeFetchRequest } from '@castellan/proto';
import { median, root } from './castellan-up.mjs';
import { startNats, startRegistry } from './servers.mjs';

const runs = Number(process.argv[2] ?? 5);
const SIZES_MB = [1, 5, 20];
const PARALLEL_READS = 8;
const MB = 1_000_000;
const baseModule = await readFile(`${root}examples/build/pod-privileged.wasm`);

function leb128(value) {
  const bytes = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return Buffer.from(bytes);
}

/** The annotated example policy grown to about `sizeMb` MB by a custom section of random bytes. */
function moduleOfSize(sizeMb) {
  const name = Buffer.from('castellan.bench.padding');
  const payload = randomBytes(Math.max(0, sizeMb * MB - baseModule.length - name.length - 16));
  const body = Buffer.concat([leb128(name.length), name, payload]);
  return new Uint8Array(Buffer.concat([baseModule, Buffer.from([0x00]), leb128(body.length), body]));
}

async function timed(work) {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}

const min = (values) => Math.min(...values);
const rate = (bytes, ms) => (bytes / MB / (ms / 1000)).toFixed(0);
const fmt = (ms) => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));

/**
 * The fetcher service as a process with its own credentials, ready once it logs `fetcher ready`.
 * The registry is on loopback, which it reaches only where told to.
 */
async function startFetcher(bus, sourcesPath) {
  const child = spawn(process.execPath, [`${root}services/fetcher/dist/main.js`], {
    env: {
      ...process.env,
      ...(await bus.env({ role: 'fetcher' })),
      CASTELLAN_SOURCES_PATH: sourcesPath,
      CASTELLAN_FETCHER_ALLOWED_NETWORKS: '127.0.0.0/8',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fetcher not ready after 20 s:\n${output}`));
    }, 20_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`;
      if (line.includes('fetcher ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`fetcher exited with ${code}:\n${output}`));
    });
  });
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const workDir = await mkdtemp(join(tmpdir(), 'castellan-bench-distribution-'));
let registry;
let nats;
let fetcher;
/** NATS connections: control's asks for fetches, the fetcher's owns the store, an evaluator's reads it. */
const connections = {};
try {
  registry = await startRegistry();
  nats = await startNats();
  const sources = { insecureSources: [registry.host], sourceAuthorities: {} };
  const pusher = new ModuleDistributionClient({ sources });
  /** Per size: `runs` distinct modules pushed to their own tags, so nothing is served from a cache. */
  const modules = new Map();
  for (const sizeMb of SIZES_MB) {
    const pushed = [];
    for (let i = 0; i < runs; i++) {
      const bytes = moduleOfSize(sizeMb);
      const url = `registry://${registry.host}/bench/m${sizeMb}-${i}:v1`;
      await pusher.push(bytes, url);
      pushed.push({ bytes, url });
    }
    modules.set(sizeMb, pushed);
  }
  await pusher.close();

  // Cold pull: a fresh client per download (new connection; for an insecure host that includes the
  // failed HTTPS attempts before plain HTTP), manifest + blob, digest verification.
  // Warm pull: the same module again on the same client (pooled connection, known mode).
  const pull = new Map();
  for (const [sizeMb, pushed] of modules) {
    const cold = [];
    const warm = [];
    for (const { url, bytes } of pushed) {
      const client = new ModuleDistributionClient({ sources });
      const first = await timed(() => client.download(url));
      if (first.result.bytes.byteLength !== bytes.byteLength) throw new Error(`short download of ${url}`);
      cold.push(first.ms);
      warm.push((await timed(() => client.download(url))).ms);
      await client.close();
    }
    pull.set(sizeMb, { cold, warm });
  }

  // The fetcher service: first fetch of a URL = resolve + download + verify + metadata + store;
  // second fetch = module index hit. One fetcher process, so only its very first fetch opens a connection.
  const sourcesPath = join(workDir, 'sources.yml');
  await writeFile(sourcesPath, `insecure_sources:\n  - "${registry.host}"\n`);
  fetcher = await startFetcher(nats, sourcesPath);
  connections.control = await nats.connect({ role: 'control' });
  const fetchOnce = async (url) => {
    const reply = decodeFetchReply(
      (await connections.control.request(Subject.Fetch, encodeFetchRequest({ url }), { timeout: 120_000 }))
        .data,
    );
    if (!reply.ok) throw new Error(`fetch ${url}: ${reply.error.code} ${reply.error.message}`);
    return reply.module;
  };
  const fetched = new Map();
  for (const [sizeMb, pushed] of modules) {
    const first = [];
    for (const { url } of pushed) first.push((await timed(() => fetchOnce(url))).ms);
    fetched.set(sizeMb, { first, second: [] });
  }
  // Second fetch = the first index hit. Its object-store lookup may make nats-server load the block
  // holding the object's metadata (~5–15 ms); repeated lookups take ~0.5 ms.
  for (const [sizeMb, pushed] of modules) {
    for (const { url } of pushed) fetched.get(sizeMb).second.push((await timed(() => fetchOnce(url))).ms);
  }

  // Object store: put fresh modules as the fetcher does, then verified reads as an evaluator does
  // them (ModuleStore.get checks the sha256).
  connections.owner = await nats.connect({ role: 'fetcher' });
  connections.reader = await nats.connect({ role: 'evaluator', pool: 'default' });
  const owner = await ModuleStore.open(connections.owner);
  const store = await ModuleStore.open(connections.reader, { role: 'reader' });
  const objects = new Map();
  for (const sizeMb of SIZES_MB) {
    const puts = [];
    const gets = [];
    const stored = [];
    for (let i = 0; i < runs; i++) {
      const bytes = moduleOfSize(sizeMb);
      const put = await timed(() => owner.put(bytes));
      puts.push(put.ms);
      stored.push(put.result);
    }
    for (const { sha256 } of stored) gets.push((await timed(() => store.get(sha256))).ms);
    objects.set(sizeMb, { puts, gets, stored });
  }
  const biggest = objects.get(SIZES_MB.at(-1)).stored[0];
  const parallel = [];
  for (let i = 0; i < runs; i++) {
    const reads = Array.from({ length: PARALLEL_READS }, () => store.get(biggest.sha256));
    parallel.push((await timed(() => Promise.all(reads))).ms);
  }

  console.log(
    `Runs per figure: ${runs}; figures are median (min) in ms, MB/s from the median; 1 MB = 10^6 bytes.\n`,
  );
  console.log(
    '| module | registry cold pull | MB/s | registry warm pull | fetcher first fetch | fetcher second fetch | object-store put | object-store get | MB/s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const sizeMb of SIZES_MB) {
    const size = modules.get(sizeMb)[0].bytes.byteLength;
    const { cold, warm } = pull.get(sizeMb);
    const { first, second } = fetched.get(sizeMb);
    const { puts, gets } = objects.get(sizeMb);
    const cell = (values) => `${fmt(median(values))} (${fmt(min(values))})`;
    console.log(
      `| ${sizeMb} MB | ${cell(cold)} | ${rate(size, median(cold))} | ${cell(warm)} | ${cell(first)} | ${cell(second)} | ${cell(puts)} | ${cell(gets)} | ${rate(size, median(gets))} |`,
    );
  }
  console.log(
    `\n${PARALLEL_READS} parallel verified reads of the ${SIZES_MB.at(-1)} MB module (one evaluator's NATS connection): ` +
      `${fmt(median(parallel))} ms (min ${fmt(min(parallel))}), ` +
      `aggregate ${rate(PARALLEL_READS * biggest.size, median(parallel))} MB/s`,
  );
} finally {
  await Promise.all(Object.values(connections).map((nc) => nc.drain()));
  await fetcher?.stop();
  await nats?.stop();
  await registry?.stop();
  await rm(workDir, { recursive: true, force: true });
}
