let turnEnd: Promise<void> | undefined;

/**
 * Resolves in the check phase of the current event-loop turn, for every caller of that turn at once.
 *
 * nats.js writes its outbound buffer to the socket in a microtask after the first message queued, so
 * messages published from separate callbacks — one per HTTP request in the gateway, one per worker
 * reply in an evaluator — each leave in a write of their own, and the NATS server reads each on its
 * own. Callers that await this before publishing resume together, publish within one microtask
 * checkpoint and share one write. The wait is the rest of the current turn: at low load a few
 * microseconds, under load the time it takes to gather the turn's other messages.
 */
export function untilTurnEnds(): Promise<void> {
  turnEnd ??= new Promise((resolve) => {
    setImmediate(() => {
      turnEnd = undefined;
      resolve();
    });
  });
  return turnEnd;
}
