// What the bus's lock costs the gateway → evaluator hop (bench/nats-hop.mjs, 64 requests in flight),
// taken apart: the same hop on a nats-server that is open, that requires TLS only, that requires
// credentials only (JWT/NKeys, each identity held to its permissions) and that is locked as
// Castellan's is (both). The four take turns for a number of rounds, the order rotated each round,
// so that a neighbour slowing the machine for a while weighs on all; medians are compared.
// Run after `npm run build`:  node bench/bus-lock.mjs [seconds per measurement] [rounds]
import { cpus } from 'node:os';
import { median, root } from './castellan-up.mjs';
import { natsHop } from './nats-hop.mjs';
import { BUS_MODES } from './servers.mjs';

const seconds = Number(process.argv[2] ?? 10);
const rounds = Number(process.argv[3] ?? 5);
const payloadPath = `${root}examples/requests/unprivileged-pod.json`;
const modes = Object.keys(BUS_MODES);
const LABELS = {
  open: 'open',
  tls: 'TLS, no credentials',
  credentials: 'credentials and permissions, no TLS',
  locked: 'locked: TLS, credentials and permissions',
};

const results = Object.fromEntries(modes.map((mode) => [mode, []]));
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < modes.length; i++) {
    const mode = modes[(round + i) % modes.length];
    const hop = await natsHop({ seconds, payloadPath, mode });
    results[mode].push({ ...hop, total: hop.requester + hop.responder + hop.server });
  }
}

const cell = (values, digits = 0) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
const of = (mode, field) => results[mode].map((hop) => hop[field]);
console.log(
  `${cpus().length} cores; ${rounds} rounds of ${seconds} s per bus; median (min–max); CPU µs per request.\n`,
);
console.log('| bus | req/s | requester | responder | nats-server | total | total ÷ open | req/s ÷ open |');
console.log('|---|---|---|---|---|---|---|---|');
for (const mode of modes) {
  const ratio = (field) => (median(of(mode, field)) / median(of('open', field))).toFixed(2);
  const pieces = ['requester', 'responder', 'server', 'total'].map((field) => cell(of(mode, field)));
  console.log(
    `| ${LABELS[mode]} | ${cell(of(mode, 'rate'))} | ${pieces.join(' | ')} | ${ratio('total')}× | ${ratio('rate')}× |`,
  );
}
