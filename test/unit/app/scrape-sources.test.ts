// guardedRead: a scrape-time read that fails or hangs leaves its series out, quickly, and
// marks them stale; a good read marks them fresh.
import { describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../../src/adapters/metrics/definitions.js';
import { guardedRead } from '../../../src/app/scrape-sources.js';

async function stale(metrics: Metrics, source: string): Promise<number | undefined> {
  const { values } = await metrics.seriesStale.get();
  return values.find((v) => v.labels['source'] === source)?.value;
}

describe('guardedRead', () => {
  it('returns what a good read returns and sets churnstream_series_stale{source} to 0', async () => {
    const metrics = createMetrics();
    metrics.seriesStale.set({ source: 'model_health' }, 1);
    const read = guardedRead(metrics, 'model_health', async () => new Map([['v1', 0.8]]), 50);
    expect(await read()).toEqual(new Map([['v1', 0.8]]));
    expect(await stale(metrics, 'model_health')).toBe(0);
  });

  it('a read that rejects gives an empty map and sets the source stale', async () => {
    const metrics = createMetrics();
    const read = guardedRead(metrics, 'timer_backlog', () => Promise.reject(new Error('redis down')), 50);
    expect(await read()).toEqual(new Map());
    expect(await stale(metrics, 'timer_backlog')).toBe(1);
  });

  it('a read that throws before returning a promise is treated the same', async () => {
    const metrics = createMetrics();
    const read = guardedRead(
      metrics,
      'timer_backlog',
      () => {
        throw new Error('no connection');
      },
      50,
    );
    expect(await read()).toEqual(new Map());
    expect(await stale(metrics, 'timer_backlog')).toBe(1);
  });

  it('a read that hangs gives an empty map once the timeout is over, and sets the source stale', async () => {
    const metrics = createMetrics();
    const read = guardedRead(metrics, 'model_health', () => new Promise<Map<string, number>>(() => {}), 50);
    const started = performance.now();
    expect(await read()).toEqual(new Map());
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(1_000);
    expect(await stale(metrics, 'model_health')).toBe(1);
  });

  it('a read slower than the timeout is stale even if it succeeds later; the next good read clears it', async () => {
    const metrics = createMetrics();
    let slow = true;
    const read = guardedRead(
      metrics,
      'model_health',
      () =>
        new Promise<Map<string, number>>((resolve) => setTimeout(() => resolve(new Map([['v', 1]])), slow ? 200 : 0)),
      50,
    );
    expect(await read()).toEqual(new Map());
    expect(await stale(metrics, 'model_health')).toBe(1);
    slow = false;
    expect(await read()).toEqual(new Map([['v', 1]]));
    expect(await stale(metrics, 'model_health')).toBe(0);
  });

  it('keeps sources apart', async () => {
    const metrics = createMetrics();
    await guardedRead(metrics, 'a', () => Promise.reject(new Error('x')), 50)();
    await guardedRead(metrics, 'b', async () => new Map(), 50)();
    expect(await stale(metrics, 'a')).toBe(1);
    expect(await stale(metrics, 'b')).toBe(0);
  });
});

describe('churnstream_series_stale in a scrape', () => {
  it("reports this scrape's reads, not the previous scrape's", async () => {
    const metrics = createMetrics();
    let down = false;
    metrics.timerBacklog(
      guardedRead(metrics, 'redis', async () => {
        if (down) throw new Error('redis down');
        return new Map([[0, 3]]);
      }),
    );
    const staleLine = (text: string) => text.split('\n').find((l) => l.startsWith('churnstream_series_stale{'));
    expect(staleLine(await metrics.registry.metrics())).toBe('churnstream_series_stale{source="redis"} 0');
    down = true;
    const during = await metrics.registry.metrics();
    expect(staleLine(during)).toBe('churnstream_series_stale{source="redis"} 1');
    expect(during).not.toMatch(/^churnstream_timer_backlog\{/m);
    down = false;
    expect(staleLine(await metrics.registry.metrics())).toBe('churnstream_series_stale{source="redis"} 0');
  });
});
