import { receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { HostCallHandler, HostCallOutcome, HostCallRequest } from '../host-calls/host-call.js';
import { describeError } from '../errors.js';
import type { HostCallAnswer, HostCallMessage } from './messages.js';

/** How often a blocked guest re-checks, so that terminating its worker takes effect promptly. */
const WAIT_SLICE_MS = 50;

/**
 * Worker side: turns the asynchronous host-call handler of the parent thread into the synchronous
 * call a guest needs. The guest's thread blocks on `Atomics.wait` while the parent does the I/O;
 * the answer is read with `receiveMessageOnPort`, which needs no event loop turn.
 */
export function blockingHostCall(port: MessagePort, signalBuffer: SharedArrayBuffer) {
  const signal = new Int32Array(signalBuffer);
  return (request: HostCallRequest): HostCallOutcome => {
    Atomics.store(signal, 0, 0);
    port.postMessage({ request } satisfies HostCallMessage);
    for (;;) {
      Atomics.wait(signal, 0, 0, WAIT_SLICE_MS);
      const received = receiveMessageOnPort(port);
      if (received) return (received.message as HostCallAnswer).outcome;
    }
  };
}

/** Parent side: answers a worker's host calls with the pluggable handler. */
export function serveHostCalls(
  port: MessagePort,
  signalBuffer: SharedArrayBuffer,
  handler: HostCallHandler,
): void {
  const signal = new Int32Array(signalBuffer);
  port.on('message', (message: HostCallMessage) => {
    void answer(handler, message.request).then((outcome) => {
      port.postMessage({ outcome } satisfies HostCallAnswer);
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    });
  });
}

async function answer(handler: HostCallHandler, request: HostCallRequest): Promise<HostCallOutcome> {
  try {
    return await handler(request);
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}
