// repeat(): runs now and every interval on its own timer, never two runs at once, logs a
// failure once per outage, and stop() waits for the run in progress.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { repeat } from '../../../src/app/repeat.js';

const warnings: string[] = [];
const log = { warn: (_: unknown, message: string) => void warnings.push(message) };

beforeEach(() => {
  vi.useFakeTimers();
  warnings.length = 0;
});
afterEach(() => vi.useRealTimers());

describe('repeat', () => {
  it('runs at once and then every interval, whatever else is busy', async () => {
    let runs = 0;
    const r = repeat(
      1000,
      async () => {
        runs += 1;
      },
      log,
      'x',
    );
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(6);
    await r.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(6);
  });

  it('never starts a run while one is in progress, and stop() waits for it', async () => {
    let started = 0;
    let release: () => void = () => {};
    const r = repeat(
      100,
      () => {
        started += 1;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      log,
      'x',
    );
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toBe(1);
    let stopped = false;
    void r.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(true);
    expect(started).toBe(1);
  });

  it('logs a failure once while it lasts, and again after a success', async () => {
    const outcomes = [false, false, false, true, false];
    let i = 0;
    const r = repeat(
      100,
      async () => {
        const ok = outcomes[i++] ?? true;
        if (!ok) throw new Error('down');
      },
      log,
      'not reported',
    );
    await vi.advanceTimersByTimeAsync(450);
    expect(i).toBe(5);
    expect(warnings).toEqual(['not reported', 'not reported']);
    await r.stop();
  });
});
