// The hand-over of tasks to worker threads and of their answers back, with no runtime in it: each
// worker answers every task after a fixed busy-wait standing in for an evaluation. What it costs on
// top of the busy-wait is the least any runtime that evaluates in worker threads pays per evaluation.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

if (!isMainThread && workerData?.handOverBusyMs !== undefined) {
  parentPort.on('message', (task) => {
    const until = performance.now() + workerData.handOverBusyMs;
    while (performance.now() < until);
    parentPort.postMessage({ seq: task.seq, result: { uid: task.uid, allowed: true } });
  });
}

/** CPU time (user + system) this process has used so far, in µs. */
export function ownCpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * Keeps `inFlightPerWorker` tasks (each carrying `requestJson`) on each of `workers` threads for
 * `seconds`. Returns the tasks answered, the wall time in ms and the CPU time of the whole process
 * in µs over that time.
 */
export async function handOverProbe({ workers, inFlightPerWorker, busyUs, seconds, requestJson }) {
  const threads = Array.from(
    { length: workers },
    () => new Worker(new URL(import.meta.url), { workerData: { handOverBusyMs: busyUs / 1000 } }),
  );
  await Promise.all(threads.map((thread) => new Promise((resolve) => thread.once('online', resolve))));
  let done = 0;
  let seq = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const cpuBefore = ownCpuMicros();
  await Promise.all(
    threads.map(
      (thread) =>
        new Promise((resolve) => {
          let inFlight = 0;
          const send = () => {
            inFlight++;
            thread.postMessage({ kind: 'validate', seq: ++seq, uid: 'u', requestJson });
          };
          thread.on('message', () => {
            done++;
            inFlight--;
            if (performance.now() < end) send();
            else if (inFlight === 0) resolve();
          });
          for (let i = 0; i < inFlightPerWorker; i++) send();
        }),
    ),
  );
  const result = { tasks: done, wallMs: performance.now() - start, cpuMicros: ownCpuMicros() - cpuBefore };
  await Promise.all(threads.map((thread) => thread.terminate()));
  return result;
}
