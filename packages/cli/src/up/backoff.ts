/** `0.5 s`, `1 s`, `10 s`: how the lines of `castellan up` give a delay. */
export function formatDelay(ms: number): string {
  return `${ms / 1000} s`;
}
