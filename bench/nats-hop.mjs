// The gateway → evaluator → gateway hop on its own: a NATS requester keeping 64 requests of an
// AdmissionReview's size in flight, through a local nats-server, to a responder in its pool's queue
// group that answers each at once with a verdict-sized reply. Requester and responder are processes
// of their own (this script in a role), with the gateway's and an evaluator's identity on a bus
// locked as asked (servers.mjs BUS_MODES). What it costs is CPU time per request of each of the three.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { evaluationSubject, poolEvaluationSubjects, poolQueueGroup } from '@castellan/proto';
import { connect } from '@nats-io/transport-node';
import { processCpuMicros } from './castellan-up.mjs';
import { busClientOptions, startNats, startRole } from './servers.mjs';

const IN_FLIGHT = 64;
/** A verdict as the evaluator returns it: an allowed AdmissionResponse in a small envelope. */
const VERDICT = JSON.stringify({
  ok: true,
  response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true },
});
/** The responder's pool, and the subject of its policy's evaluations. */
const POOL = 'hop';
const SUBJECT = evaluationSubject(POOL, 'hop', 1);
const RESPONDER = { role: 'evaluator', pool: POOL };
const REQUESTER = { role: 'gateway' };

/** A connection as `identity` to a bus locked as `mode`, from a role's arguments. */
const connectAs = (identity, mode, natsUrl, natsCredentialsFile, natsCaFile) =>
  connect(busClientOptions(mode, { natsUrl, natsCredentialsFile, natsCaFile }, identity));

const roles = {
  /** Answers every request with a verdict-sized reply. */
  async 'nats-responder'(...access) {
    const nc = await connectAs(RESPONDER, ...access);
    const reply = new TextEncoder().encode(VERDICT);
    nc.subscribe(poolEvaluationSubjects(POOL), {
      queue: poolQueueGroup(POOL),
      callback: (_error, msg) => msg.respond(reply),
    });
    await nc.flush();
    console.log('ready');
  },

  /** From SIGUSR2 on, `IN_FLIGHT` requests of the payload at all times for `seconds`. */
  async 'nats-requester'(payloadPath, seconds, ...access) {
    const nc = await connectAs(REQUESTER, ...access);
    const payload = await readFile(payloadPath);
    // Listening before saying ready: SIGUSR2's default action would end the process.
    const go = new Promise((resolve) => process.once('SIGUSR2', resolve));
    console.log('ready');
    await go;
    let requests = 0;
    const end = performance.now() + Number(seconds) * 1000;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (performance.now() < end) {
          await nc.request(SUBJECT, payload, { timeout: 5000 });
          requests++;
        }
      }),
    );
    // Stays connected (and alive) until stopped, so that its CPU time can still be read.
    console.log(`requests ${requests}`);
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url))
  await roles[process.argv[2]](...process.argv.slice(3));

/**
 * The hop for `seconds` with `payloadPath` as the request, on a fresh nats-server locked as `mode`:
 * requests per second, and CPU µs per request of the requester, the responder and nats-server.
 */
export async function natsHop({ seconds, payloadPath, mode = 'locked' }) {
  const server = await startNats(mode);
  const script = fileURLToPath(import.meta.url);
  /** A role's connection arguments: the mode, the bus, the identity's credentials and the bus CA. */
  const access = async (identity) => {
    const { natsUrl, natsCredentialsFile, natsCaFile } = await server.access(identity);
    return [mode, natsUrl, natsCredentialsFile, natsCaFile];
  };
  const responder = await startRole(script, 'nats-responder', ...(await access(RESPONDER)));
  const requester = await startRole(
    script,
    'nats-requester',
    ...[payloadPath, String(seconds)],
    ...(await access(REQUESTER)),
  );
  try {
    const pids = { requester: requester.pid, responder: responder.pid, server: server.pid };
    const before = Object.fromEntries(
      await Promise.all(Object.entries(pids).map(async ([role, pid]) => [role, await processCpuMicros(pid)])),
    );
    process.kill(requester.pid, 'SIGUSR2');
    await new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        if (!requester.output().includes('requests ')) return;
        clearInterval(poll);
        resolve();
      }, 50);
      void requester.exited.then((code) => {
        clearInterval(poll);
        reject(new Error(`the NATS requester exited with ${code} before its count`));
      });
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
