import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { supervise } from './supervisor.js';
import type { SupervisedProcess } from './supervisor.js';

/** A process the test ends as it likes: `die` as a crash would, `stop` as the supervisor does. */
interface FakeProcess extends SupervisedProcess {
  die(status: number | string): void;
  stopped: boolean;
}

function fakeProcess(): FakeProcess {
  let end!: (status: number | string) => void;
  const exited = new Promise<number | string>((resolve) => (end = resolve));
  const process: FakeProcess = {
    exited,
    stopped: false,
    die: (status) => end(status),
    stop: () => {
      process.stopped = true;
      end('SIGTERM');
      return Promise.resolve();
    },
  };
  return process;
}

describe('supervise', () => {
  let lines: string[];
  let started: FakeProcess[];
  const restart = vi.fn(() => {
    const process = fakeProcess();
    started.push(process);
    return Promise.resolve(process);
  });
  const options = () => ({ say: (line: string) => lines.push(line), stableAfterMs: 30_000 });
  /** A supervisor whose first process has just died with code 1. */
  const afterCrash = (name: string, start: () => Promise<FakeProcess> = restart) => {
    const first = fakeProcess();
    const supervisor = supervise(name, first, start, options());
    first.die(1);
    return supervisor;
  };

  beforeEach(() => {
    vi.useFakeTimers();
    lines = [];
    started = [];
    restart.mockClear();
  });
  afterEach(() => vi.useRealTimers());

  it('restarts a process that dies after the backoff, saying so on one line', async () => {
    afterCrash('evaluator');
    await vi.advanceTimersByTimeAsync(0);
    expect(lines).toEqual(['castellan: the evaluator stopped unexpectedly (code 1); restarting in 0.5 s']);
    expect(restart).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(500);
    expect(restart).toHaveBeenCalledTimes(1);
  });

  it('doubles the delay while the process keeps dying, up to 10 s, and starts over after a long run', async () => {
    const first = fakeProcess();
    supervise('nats-server', first, restart, options());
    first.die('SIGKILL');
    for (let crash = 0; crash < 6; crash++) {
      await vi.advanceTimersByTimeAsync(10_000);
      started.at(-1)?.die(1);
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(lines.map((line) => line.replace(/.*restarting in /, ''))).toEqual([
      '0.5 s',
      '1 s',
      '2 s',
      '4 s',
      '8 s',
      '10 s',
      '10 s',
    ]);
    expect(lines[0]).toBe(
      'castellan: the nats-server stopped unexpectedly (signal SIGKILL); restarting in 0.5 s',
    );
    await vi.advanceTimersByTimeAsync(10_000 + 30_000);
    started.at(-1)?.die(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(lines.at(-1)).toMatch(/restarting in 0\.5 s$/);
  });

  it('tries again when a restart fails', async () => {
    const failingOnce = vi
      .fn<() => Promise<FakeProcess>>()
      .mockRejectedValueOnce(new Error('port 4222 in use'))
      .mockImplementation(restart);
    afterCrash('nats-server', failingOnce);
    await vi.advanceTimersByTimeAsync(500);
    expect(lines.at(-1)).toBe(
      'castellan: the nats-server could not restart (port 4222 in use); restarting in 1 s',
    );
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toHaveLength(1);
  });

  it('restarts nothing once stopped, and stops the process running then', async () => {
    const supervisor = afterCrash('gateway');
    await vi.advanceTimersByTimeAsync(500);
    const second = started[0];
    await supervisor.stop();
    expect(second?.stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(restart).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(1);
  });

  it('restarts nothing that dies once up is stopping, before its own turn to stop', async () => {
    const stopping = new AbortController();
    const first = fakeProcess();
    supervise('evaluator', first, restart, { ...options(), stopping: stopping.signal });
    stopping.abort();
    first.die(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(restart).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it('cancels a restart that was waiting out its backoff when stopped', async () => {
    const supervisor = afterCrash('fetcher');
    await vi.advanceTimersByTimeAsync(100);
    await supervisor.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(restart).not.toHaveBeenCalled();
  });

  it('stops a process whose restart was under way when stopped', async () => {
    let finishStart!: () => void;
    const slowStart = () =>
      new Promise<FakeProcess>((resolve) => {
        const process = fakeProcess();
        started.push(process);
        finishStart = () => resolve(process);
      });
    const supervisor = afterCrash('nats-server', slowStart);
    await vi.advanceTimersByTimeAsync(500);
    const stopping = supervisor.stop();
    finishStart();
    await stopping;
    expect(started[0]?.stopped).toBe(true);
  });
});
