import type { Verdict } from '../harness/castellan.js';

/** Runs `concurrency` request loops until `durationMs` has passed; every answer is kept. */
export async function runLoad(
  concurrency: number,
  durationMs: number,
  send: (index: number) => Promise<Verdict>,
): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  const end = Date.now() + durationMs;
  let index = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) verdicts.push(await send(index++));
    }),
  );
  return verdicts;
}
