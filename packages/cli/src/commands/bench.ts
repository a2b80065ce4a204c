import type { Command } from 'commander';
import { Option } from 'commander';
import { readRequestDocument } from '../inputs.js';
import { formatMicros, summarise } from '../latency-stats.js';
import type { LatencySummary } from '../latency-stats.js';
import { openPolicySession } from '../policy-session.js';
import type { PolicyFlags, PolicySession } from '../policy-session.js';
import {
  addPolicyOptions,
  parseNonNegativeNumber,
  parsePositiveInteger,
  parsePositiveNumber,
} from './policy-options.js';

interface BenchFlags extends PolicyFlags {
  requestPath: string;
  raw?: boolean;
  duration: number;
  warmUp: number;
  concurrency: number;
  output: 'text' | 'json';
}

export interface BenchReport {
  policy: string;
  executionMode: string;
  workers: number;
  latency: LatencySummary;
  throughput: {
    concurrency: number;
    evaluations: number;
    evaluationsPerSecond: number;
    microsPerEvaluation: number;
  };
}

/** Runs evaluations back to back until `seconds` pass, `concurrency` at a time; returns each latency. */
async function drive(
  session: PolicySession,
  document: unknown,
  raw: boolean,
  seconds: number,
  concurrency: number,
) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      const start = performance.now();
      await session.evaluator.validate(session.policy, document, { raw });
      latencies.push((performance.now() - start) * 1000);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { latencies, elapsedSeconds: (performance.now() - started) / 1000 };
}

export function registerBench(program: Command): void {
  addPolicyOptions(
    program
      .command('bench')
      .description('measure per-evaluation latency and throughput of a policy')
      .argument('<module>', 'policy module: a local path, file://, registry://, https:// or http:// URL')
      .requiredOption('-r, --request-path <file>', 'AdmissionReview or AdmissionRequest JSON file')
      .option('--raw', 'send the request to the policy verbatim (raw policies)')
      .option('--duration <seconds>', 'measurement time of each phase', parsePositiveNumber, 5)
      .option('--warm-up <seconds>', 'warm-up time before measuring (0: none)', parseNonNegativeNumber, 1)
      .option('--concurrency <n>', 'evaluations in flight in the throughput phase', parsePositiveInteger, 4)
      .option('--workers <n>', 'evaluation worker threads', parsePositiveInteger, 1)
      .addOption(
        new Option('-o, --output <format>', 'report format').choices(['text', 'json']).default('text'),
      ),
  ).action(async (reference: string, flags: BenchFlags) => {
    const document = await readRequestDocument(flags.requestPath);
    const session = await openPolicySession(reference, flags);
    const raw = flags.raw ?? false;
    try {
      const progress = (line: string): void => {
        if (flags.output === 'text') process.stderr.write(`${line}\n`);
      };
      if (flags.warmUp > 0) {
        progress(`warming up for ${flags.warmUp} s…`);
        await drive(session, document, raw, flags.warmUp, flags.concurrency);
      }
      progress(`measuring latency (one evaluation at a time) for ${flags.duration} s…`);
      const sequential = await drive(session, document, raw, flags.duration, 1);
      progress(`measuring throughput (${flags.concurrency} in flight) for ${flags.duration} s…`);
      const loaded = await drive(session, document, raw, flags.duration, flags.concurrency);
      const perSecond = loaded.latencies.length / loaded.elapsedSeconds;
      const report: BenchReport = {
        policy: reference,
        executionMode: session.module.executionMode,
        workers: session.evaluator.workers,
        latency: summarise(sequential.latencies),
        throughput: {
          concurrency: flags.concurrency,
          evaluations: loaded.latencies.length,
          evaluationsPerSecond: Math.round(perSecond),
          microsPerEvaluation: (1e6 / perSecond) * session.evaluator.workers,
        },
      };
      process.stdout.write(
        flags.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
      );
    } finally {
      await session.evaluator.close();
    }
  });
}

function formatReport(report: BenchReport): string {
  const { latency, throughput } = report;
  return [
    `policy          ${report.policy} (${report.executionMode}, ${report.workers} worker${report.workers === 1 ? '' : 's'})`,
    `latency         mean ${formatMicros(latency.meanMicros)}  p50 ${formatMicros(latency.p50Micros)}  p99 ${formatMicros(latency.p99Micros)}  (${latency.samples} evaluations, one at a time)`,
    `throughput      ${throughput.evaluationsPerSecond} evaluations/s with ${throughput.concurrency} in flight = ${formatMicros(throughput.microsPerEvaluation)} of worker time per evaluation`,
    '',
  ].join('\n');
}
