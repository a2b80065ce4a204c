/**
 * Go's `time.ParseDuration` syntax, which the Kubernetes API server uses for the `?timeout=` it
 * appends to webhook calls (`10s`, `500ms`, `1m30s`, `1.5h`).
 */

const MILLISECONDS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  '\u00b5s': 1e-3, // micro sign
  '\u03bcs': 1e-3, // Greek mu
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const COMPONENT = /(\d+\.?\d*|\.\d+)([a-z\u00b5\u03bc]+)/y;

/** The duration in milliseconds, or `undefined` when `text` is not a Go duration. */
export function parseGoDuration(text: string): number | undefined {
  let at = 0;
  let sign = 1;
  if (text.startsWith('-') || text.startsWith('+')) {
    sign = text.startsWith('-') ? -1 : 1;
    at = 1;
  }
  const rest = text.slice(at);
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  COMPONENT.lastIndex = 0;
  while (COMPONENT.lastIndex < rest.length) {
    const match = COMPONENT.exec(rest);
    if (match === null) return undefined;
    const [, amount = '', unit = ''] = match;
    const perUnit = MILLISECONDS_PER_UNIT[unit];
    if (perUnit === undefined) return undefined;
    total += Number(amount) * perUnit;
  }
  return sign * total;
}
