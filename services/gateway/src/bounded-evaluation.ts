/**
 * One evaluation, bounded by the gateway's own clock: whatever the dispatcher does (answers late,
 * throws, never settles), the gateway has an outcome after `call.timeoutMs`.
 */
import { messageOf } from '@castellan/proto';
import type { EvaluationCall, EvaluationDispatcher, EvaluationOutcome } from './dispatch.js';

export async function evaluateWithin(
  dispatcher: EvaluationDispatcher,
  call: EvaluationCall,
): Promise<EvaluationOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<EvaluationOutcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ kind: 'unavailable', reason: `no reply within ${call.timeoutMs} ms` }),
      call.timeoutMs,
    );
  });
  const evaluation = (async (): Promise<EvaluationOutcome> => {
    try {
      return await dispatcher.evaluate(call);
    } catch (error) {
      return { kind: 'unavailable', reason: messageOf(error) };
    }
  })();
  try {
    return await Promise.race([evaluation, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
