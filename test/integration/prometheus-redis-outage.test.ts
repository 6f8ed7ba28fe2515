// The stack's real Prometheus scrapes a running scorer (`churnstream run` as its own
// process, on the port the stack's scrape config names) across a Redis outage of about
// 22 s (`stack.sh down redis`, then `up redis`, as redis-outage.test.ts does it), with
// traffic arriving during the outage. Read back from Prometheus over the whole window:
//  - up{job="churnstream"} is 1 at every scrape, and the scrapes come every interval;
//  - series that do not need Redis (process_cpu_seconds_total, every
//    churnstream_events_consumed_total series) have a sample at every one of those
//    scrapes: no gap;
//  - churnstream_series_stale{source="redis"} is 1 on the scrapes during the outage and 0
//    on those before it and after Redis is back.
// The samples are read raw (a range selector `x[Ns]` at the window's end), not with
// query_range: a range query fills a missed scrape from its 5-minute lookback, so it
// cannot show a gap.
//
// Port: this file and prometheus-scrape.test.ts both serve on APP_HTTP_PORT (the only
// address Prometheus scrapes). The integration project runs one file at a time
// (vitest.config.ts: singleFork), so they never overlap; a port held by anything else
// (a demo, a second test run) fails the set-up with that said, rather than a confusing
// scrape of someone else's process.
import { createServer } from 'node:net';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import { produceEvents } from '../helpers/scorer.js';
import { configOf, processEnv, waitForProgress } from '../helpers/scorer-process.js';
import { stackEnv } from '../helpers/stack.js';
import { type ScorerChild, sleep, spawnScorer, stack, waitFor, waitUntilReady } from '../helpers/stack-control.js';

const prometheus = `http://${stackEnv['STACK_HOST']}:${stackEnv['PROMETHEUS_PORT']}`;
const port = Number(stackEnv['APP_HTTP_PORT'] ?? 18080);
const OUTAGE_MS = 22_000;
/** A gap is a missed scrape: two samples two intervals apart. Scrape times jitter by milliseconds. */
const GAP_FACTOR = 1.5;

const env: Record<string, string> = {
  ...processEnv('prom-redis'),
  CHURNSTREAM_PARTITIONS: '3',
  CHURNSTREAM_HTTP_PORT: String(port),
};
const config = configOf(env);
const history = generateDemoHistory({ seed: 71, customers: 150, start: Date.UTC(2024, 0, 1), days: 360 });
const before = Math.floor(history.length * 0.5);

interface Series {
  readonly metric: Record<string, string>;
  /** [time in ms, value] as Prometheus stored them. */
  readonly samples: [number, number][];
}

/** The raw samples of `selector` in (from, to] (ms), one entry per series. */
async function rawSamples(selector: string, from: number, to: number): Promise<Series[]> {
  const range = `${Math.ceil((to - from) / 1000)}s`;
  const url = `${prometheus}/api/v1/query?query=${encodeURIComponent(`${selector}[${range}]`)}&time=${to / 1000}`;
  const answer = (await (await fetch(url)).json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  if (answer.status !== 'success') throw new Error(`${selector}: ${answer.error}`);
  return (answer.data?.result ?? []).map((s) => ({
    metric: s.metric,
    samples: s.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]),
  }));
}

/** Our target as Prometheus sees it: its scrape URL and interval (ms). */
async function target(): Promise<{ scrapeUrl: string; intervalMs: number }> {
  const answer = (await (await fetch(`${prometheus}/api/v1/targets`)).json()) as {
    data: { activeTargets: { labels: { job: string }; scrapeUrl: string; scrapeInterval: string }[] };
  };
  const found = answer.data.activeTargets.find((t) => t.labels.job === 'churnstream');
  if (found === undefined) throw new Error('Prometheus has no churnstream target');
  const match = /^(\d+)s$/.exec(found.scrapeInterval);
  if (match === null) throw new Error(`unexpected scrape interval ${found.scrapeInterval}`);
  return { scrapeUrl: found.scrapeUrl, intervalMs: Number(match[1]) * 1000 };
}

/** Whether nothing listens on the port (we could bind it ourselves). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Sample times more than GAP_FACTOR intervals apart, as "from -> to (seconds)". */
function gaps(times: readonly number[], intervalMs: number): string[] {
  const found: string[] = [];
  for (let i = 1; i < times.length; i += 1) {
    const gap = (times[i] as number) - (times[i - 1] as number);
    if (gap > GAP_FACTOR * intervalMs) found.push(`${new Date(times[i - 1] as number).toISOString()} +${gap / 1000}s`);
  }
  return found;
}

let kafka: Kafka;
let provisioned: Provisioned;
let scorer: ScorerChild;
let intervalMs = 5000;
const at = { windowStart: 0, downCalled: 0, down: 0, upCalled: 0, up: 0, windowEnd: 0 };
let up: Series[] = [];

beforeAll(async () => {
  expect(await portFree(port), `port ${port} (APP_HTTP_PORT) is taken: stop what listens there first`).toBe(true);
  const scrape = await target();
  expect(scrape.scrapeUrl).toBe(`http://${stackEnv['STACK_HOST']}:${port}/metrics`);
  intervalMs = scrape.intervalMs;

  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  scorer = spawnScorer(env);
  expect(await waitUntilReady(scorer)).toBe(true);
  const ready = Date.now();
  await produceEvents(
    kafka,
    config.topics.orders,
    provisioned.registry,
    provisioned.schemas.orders,
    history.slice(0, before),
  );
  expect(await waitForProgress(kafka, config, before, 60_000)).toBe(before);
  // Two successful scrapes of this process before the window opens.
  const scraped = await waitFor(async () => {
    const samples = (await rawSamples('up{job="churnstream"}', ready, Date.now()))[0]?.samples ?? [];
    return samples.filter(([t, v]) => t > ready && v === 1).length >= 2;
  }, 6 * intervalMs);
  expect(scraped).toBe(true);
  at.windowStart = Date.now();
  await sleep(intervalMs);

  at.downCalled = Date.now();
  stack('down', 'redis');
  at.down = Date.now();
  // Traffic during the outage: units arrive and wait for Redis while Prometheus scrapes.
  await produceEvents(
    kafka,
    config.topics.orders,
    provisioned.registry,
    provisioned.schemas.orders,
    history.slice(before),
  );
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - at.down)));
  at.upCalled = Date.now();
  stack('up', 'redis');
  at.up = Date.now();

  // Three scrapes after Redis is back (the first may still catch ioredis reconnecting).
  await sleep(3 * intervalMs + 1000);
  at.windowEnd = Date.now();
  // A scrape's samples are stored when it ends: once one that started after the window is
  // there, every scrape of the window is.
  const settled = await waitFor(async () => {
    const last = (await rawSamples('up{job="churnstream"}', at.windowStart, Date.now()))[0]?.samples.at(-1);
    return last !== undefined && last[0] > at.windowEnd;
  }, 3 * intervalMs);
  expect(settled).toBe(true);
  up = await rawSamples('up{job="churnstream"}', at.windowStart, at.windowEnd);
  console.log(
    `prometheus across a redis outage: window ${(at.windowEnd - at.windowStart) / 1000} s, redis down ${at.down - at.downCalled} ms after the call, down for ${(at.up - at.down) / 1000} s; ${up[0]?.samples.length ?? 0} scrapes`,
  );
}, 240_000);

afterAll(async () => {
  // Whatever happened, Redis runs again and the whole stack is up for the next test.
  stack('up');
  await scorer?.stop();
});

describe('Prometheus scraping the scorer across a Redis outage (`stack.sh down redis` for ~22 s)', () => {
  it('sees up{job="churnstream"} 1 at every scrape, one scrape per interval', () => {
    expect(up).toHaveLength(1);
    const samples = up[0]?.samples ?? [];
    const times = samples.map(([t]) => t);
    // Every interval of the window has its scrape...
    expect(samples.length).toBeGreaterThanOrEqual(Math.floor((at.windowEnd - at.windowStart) / intervalMs) - 1);
    expect(gaps([at.windowStart, ...times, at.windowEnd], intervalMs)).toEqual([]);
    // ...and every one of them succeeded, the ones during the outage too.
    expect(times.filter((t) => t > at.down && t < at.upCalled).length).toBeGreaterThanOrEqual(3);
    expect(samples.filter(([, v]) => v !== 1)).toEqual([]);
  });

  it('has a sample of every non-Redis series at every scrape of the window: no gap', async () => {
    const scrapes = (up[0]?.samples ?? []).map(([t]) => t);
    expect(scrapes.length).toBeGreaterThan(0);
    const cpu = await rawSamples('process_cpu_seconds_total{job="churnstream"}', at.windowStart, at.windowEnd);
    const consumed = await rawSamples(
      'churnstream_events_consumed_total{job="churnstream"}',
      at.windowStart,
      at.windowEnd,
    );
    expect(cpu).toHaveLength(1);
    // One series per partition: all three got records before the window opened.
    expect(consumed.map((s) => s.metric['partition']).sort()).toEqual(['0', '1', '2']);
    for (const series of [...cpu, ...consumed]) {
      expect(
        series.samples.map(([t]) => t),
        `${series.metric['__name__']}${JSON.stringify(series.metric)}`,
      ).toEqual(scrapes);
    }
  });

  it('reports churnstream_series_stale{source="redis"} 1 on every scrape during the outage and 0 before and after', async () => {
    const stale = await rawSamples(
      'churnstream_series_stale{job="churnstream",source="redis"}',
      at.windowStart,
      at.windowEnd,
    );
    expect(stale).toHaveLength(1);
    const samples = stale[0]?.samples ?? [];
    expect(samples.map(([t]) => t)).toEqual((up[0]?.samples ?? []).map(([t]) => t));
    const between = (from: number, to: number) => samples.filter(([t]) => t > from && t < to).map(([, v]) => v);
    const beforeOutage = between(at.windowStart, at.downCalled);
    const during = between(at.down, at.upCalled);
    // ioredis reconnects within its 2 s backoff once Redis is back: allow it one interval.
    const after = between(at.up + intervalMs, at.windowEnd + 1);
    console.log(
      `churnstream_series_stale{source="redis"}: before ${JSON.stringify(beforeOutage)}, during ${JSON.stringify(during)}, after ${JSON.stringify(after)}`,
    );
    expect(beforeOutage.length).toBeGreaterThanOrEqual(1);
    expect(beforeOutage.every((v) => v === 0)).toBe(true);
    expect(during.length).toBeGreaterThanOrEqual(3);
    expect(during.every((v) => v === 1)).toBe(true);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.every((v) => v === 0)).toBe(true);
  });

  it('keeps the scorer running through it', () => {
    expect(scorer.exited()).toBe(false);
  });
});
