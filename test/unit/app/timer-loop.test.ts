// The timer loop: one pass at a time, a failed pass retried on the next tick, stop() waits.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTimerLoop, type TimerLoop } from '../../../src/app/timer-loop.js';

const log = pino({ level: 'silent' });
let loop: TimerLoop | null = null;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(async () => {
  const running = loop;
  loop = null;
  if (running !== null) {
    const stopped = running.stop();
    await vi.runAllTimersAsync();
    await stopped;
  }
  vi.useRealTimers();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('timer loop', () => {
  it('a tick while a pass runs does not start a second pass', async () => {
    let running = 0;
    let most = 0;
    let calls = 0;
    loop = startTimerLoop({
      intervalMs: 100,
      pageSize: 10,
      assigned: () => [0, 1],
      runPage: async () => {
        calls += 1;
        running += 1;
        most = Math.max(most, running);
        await sleep(250); // two and a half ticks
        running -= 1;
        return 0;
      },
      log,
    });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(most).toBe(1);
    // Each pass (two partitions, 500 ms) lets the ticks during it go by: about one pass per 600 ms.
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(calls).toBeLessThanOrEqual(8);
  });

  it('drains a partition while its pages come back full, then goes on to the next partition', async () => {
    const pages: number[] = [];
    const backlog = new Map([
      [0, 25],
      [1, 3],
    ]);
    loop = startTimerLoop({
      intervalMs: 100,
      pageSize: 10,
      assigned: () => [0, 1],
      runPage: async (partition) => {
        pages.push(partition);
        const left = backlog.get(partition) ?? 0;
        const page = Math.min(10, left);
        backlog.set(partition, left - page);
        return page;
      },
      log,
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(pages).toEqual([0, 0, 0, 1]);
  });

  it('a failing pass is retried on the next tick', async () => {
    const calls: number[] = [];
    loop = startTimerLoop({
      intervalMs: 100,
      pageSize: 10,
      assigned: () => [0],
      runPage: async () => {
        calls.push(Date.now());
        if (calls.length === 1) throw new Error('redis down');
        return 0;
      },
      log,
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(2);
  });

  it('a failure on one partition does not keep the others from their pass', async () => {
    const seen: number[] = [];
    loop = startTimerLoop({
      intervalMs: 100,
      pageSize: 10,
      assigned: () => [0, 1],
      runPage: async (partition) => {
        seen.push(partition);
        if (partition === 0) throw new Error('down');
        return 0;
      },
      log,
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual([0, 1]);
  });

  it('stop() waits for the running pass, and no pass starts after it', async () => {
    let release: () => void = () => {};
    let calls = 0;
    const running = startTimerLoop({
      intervalMs: 100,
      pageSize: 1,
      assigned: () => [0],
      runPage: async () => {
        calls += 1;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return 1; // a full page: the pass would go on, were it not stopped
      },
      log,
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toBe(1);
    let stopped = false;
    const stopping = running.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(1);
  });
});
