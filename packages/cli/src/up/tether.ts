/**
 * `node tether.js <command> [args…]`: runs a program that knows nothing of `castellan up`
 * (nats-server) so that it dies with `up`. Node cannot set PR_SET_PDEATHSIG; this process, started
 * by `up` with a pipe on stdin (tethered-child.ts), stops the program when that pipe closes, and
 * otherwise stands in for it: a SIGTERM, SIGINT or SIGHUP is passed on as SIGTERM (nats-server would
 * take SIGHUP for a config reload), and the program's exit code or signal becomes this one's, so the
 * supervisor reports the program's death as it would had it started it directly. The program shares
 * this process group: `up`'s last resort, SIGKILL to the group, reaches both.
 */
import { spawn } from 'node:child_process';
import { onParentGone } from '@castellan/service-host';

/** nats-server stops in well under a second; one that does not is killed. */
const STOP_GRACE_MS = 5_000;

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  process.stderr.write('usage: tether.js <command> [args…]\n');
  process.exit(2);
}
const program = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
const stopProgram = () => {
  program.kill('SIGTERM');
  setTimeout(() => program.kill('SIGKILL'), STOP_GRACE_MS).unref();
};
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stopProgram);
onParentGone(stopProgram);

program.once('error', (error) => {
  process.stderr.write(`cannot run ${command}: ${error.message}\n`);
  process.exit(127);
});
program.once('exit', (code, signal) => {
  if (signal === null) process.exit(code ?? 1);
  // Dies of the same signal: the default action, once this process no longer handles it.
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
});
