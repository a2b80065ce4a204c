import type { ProgressListener } from '@castellan/oci';
import { SingleBar } from 'cli-progress';

/** Reports one download or upload on stderr, keeping stdout for results. */
export interface TransferProgress {
  onProgress: ProgressListener;
  /** Ends the report with `pulled 3.1 MB in 0.4 s`. */
  finish(bytes: number, detail?: string): void;
  /** Ends the report after a failure (the error is reported elsewhere). */
  abandon(): void;
}

const VERBS = {
  pull: { doing: 'pulling', done: 'pulled' },
  push: { doing: 'pushing', done: 'pushed' },
} as const;

/** A bar when stderr is a terminal, else one line at the start and one at the end. */
export function startTransfer(kind: keyof typeof VERBS, url: string): TransferProgress {
  const verbs = VERBS[kind];
  const started = performance.now();
  const summary = (bytes: number, detail: string | undefined) =>
    `${verbs.done} ${formatBytes(bytes)} in ${((performance.now() - started) / 1000).toFixed(1)} s${detail ? ` (${detail})` : ''}\n`;

  if (!process.stderr.isTTY) {
    process.stderr.write(`${verbs.doing} ${url}\n`);
    return {
      onProgress: () => undefined,
      finish: (bytes, detail) => process.stderr.write(summary(bytes, detail)),
      abandon: () => undefined,
    };
  }

  const bar = new SingleBar({
    stream: process.stderr,
    format: `${verbs.doing} ${url} [{bar}] {percentage}% {transferred}`,
    hideCursor: true,
    clearOnComplete: true,
  });
  let barShown = false;
  return {
    onProgress: (received, total) => {
      const payload = { transferred: formatBytes(received) };
      if (!barShown) {
        bar.start(total ?? 0, received, payload);
        barShown = true;
      }
      if (total !== undefined) bar.setTotal(total);
      bar.update(received, payload);
    },
    finish: (bytes, detail) => {
      bar.stop();
      process.stderr.write(summary(bytes, detail));
    },
    abandon: () => bar.stop(),
  };
}

/** Decimal units, one decimal: `812 B`, `3.1 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes / 1000;
  for (const unit of ['kB', 'MB']) {
    if (value < 1000) return `${value.toFixed(1)} ${unit}`;
    value /= 1000;
  }
  return `${value.toFixed(1)} GB`;
}
