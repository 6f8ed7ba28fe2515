// `churnstream demo`: the main job on demo traffic. Starts the streaming scorer with the
// shipped models (event-time clock, so months of history play in seconds and silent
// customers are rescored by timers), replays a seeded synthetic order history (or a
// CSV/UCI/CDNOW file) into the orders topic with a progress bar, waits until the scorer
// has caught up, prints a summary (throughput, risk changes by tier, the riskiest
// customers with their reasons) and leaves the query API and /metrics up.
import cliProgress from 'cli-progress';
import { loadCdnow } from '../adapters/files/datasets/cdnow.js';
import { loadGenericCsv } from '../adapters/files/datasets/generic-csv.js';
import { loadUciOnlineRetail } from '../adapters/files/datasets/uci-online-retail.js';
import { KafkaConnection } from '../adapters/kafka/connection.js';
import { toOrderEventRecord } from '../adapters/registry/order-event-codec.js';
import { generateDemoHistory } from '../core/demo/generator.js';
import type { OrderEvent } from '../core/events/order-event.js';
import { DAY_MS } from '../core/time.js';
import type { Config } from './config.js';
import { type RankedCustomer, riskiestCustomers } from './demo-query.js';
import type { Logger } from './logger.js';
import { type Service, startService } from './service.js';
import { provision } from './setup.js';

export interface DemoRunOptions {
  readonly customers: number;
  readonly days: number;
  readonly seed: number;
  readonly source?: { readonly kind: 'uci' | 'cdnow' | 'csv'; readonly path: string } | undefined;
  readonly progress: boolean;
}

export interface DemoSummary {
  readonly produced: number;
  readonly produceSeconds: number;
  readonly drainSeconds: number;
  readonly riskChangesByTier: Readonly<Record<string, number>>;
  readonly deadLetters: number;
  readonly timerEvaluations: number;
  readonly top: readonly RankedCustomer[];
  readonly port: number;
}

/** The longest synthetic history `--days` takes (ten years: it still starts after 1990, the event floor). */
export const MAX_DEMO_DAYS = 3650;

/**
 * Where the synthetic history starts: 2024-01-01 (so a seed gives the same events on any
 * day), unless the history would then reach past today: the scorer dead-letters an event
 * time ahead of its clock (event_time_in_future), so a longer history ends today.
 */
export function demoStart(days: number, now: number): number {
  return Math.min(Date.UTC(2024, 0, 1), Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS);
}

async function loadHistory(options: DemoRunOptions): Promise<OrderEvent[]> {
  if (options.source === undefined) {
    return generateDemoHistory({
      seed: options.seed,
      customers: options.customers,
      start: demoStart(options.days, Date.now()),
      days: options.days,
    });
  }
  const { kind, path } = options.source;
  const loaded =
    kind === 'uci' ? await loadUciOnlineRetail(path) : kind === 'cdnow' ? loadCdnow(path) : await loadGenericCsv(path);
  return [...loaded.events].sort((a, b) => a.eventTime - b.eventTime);
}

const metricTotal = async (
  service: Service,
  name: string,
  filter: (labels: Record<string, string | number>) => boolean = () => true,
) => {
  const metric = service.metrics.registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  return (await metric.get()).values
    .filter((v) => filter(v.labels as Record<string, string | number>))
    .reduce((sum, v) => sum + v.value, 0);
};

export async function runDemo(
  config: Config,
  options: DemoRunOptions,
  log: Logger,
): Promise<{ service: Service; summary: DemoSummary }> {
  const history = await loadHistory(options);
  const { registry, schemas } = await provision(config);
  const service = await startService(config, log);
  const kafka = new KafkaConnection(config.kafka, (level, message, fields) => log[level](fields, message));
  const bar = options.progress
    ? new cliProgress.SingleBar(
        {
          format: '{phase} [{bar}] {value}/{total} | {rate} ev/s | risk changes {changes}',
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;

  const producer = kafka.publisher();
  await producer.connect();
  const before = await metricTotal(service, 'churnstream_events_consumed_total');
  const started = performance.now();
  bar?.start(history.length, 0, { phase: 'replay ', rate: 0, changes: 0 });
  for (let i = 0; i < history.length; i += 1000) {
    const chunk = history.slice(i, i + 1000);
    await producer.publish(
      chunk.map((event) => ({
        topic: config.topics.orders,
        key: event.customerId,
        value: registry.encode(schemas.orders, toOrderEventRecord(event)),
        // The time of the replay, not the event's: Kafka's time-based retention (7 days by
        // default) reads record timestamps, and would delete a history stamped years back
        // within minutes, before a second group, a restart or `dataset --source kafka` read it.
        timestamp: String(Date.now()),
      })),
    );
    const done = i + chunk.length;
    bar?.update(done, {
      rate: Math.round(done / ((performance.now() - started) / 1000)),
      changes: await metricTotal(service, 'churnstream_risk_changes_total'),
    });
  }
  const produceSeconds = (performance.now() - started) / 1000;
  await producer.disconnect();

  // Wait for the scorer to catch up: everything consumed, no timer due, and nothing scored for
  // two timer intervals (a timer pass runs once per interval: one quiet look proves nothing).
  bar?.start(history.length, 0, { phase: 'scoring', rate: 0, changes: 0 });
  const quietMs = 2 * config.timers.intervalMs + 500;
  let consumed = 0;
  let seen = '';
  let quietSince = performance.now();
  for (;;) {
    consumed = (await metricTotal(service, 'churnstream_events_consumed_total')) - before;
    const changes = await metricTotal(service, 'churnstream_risk_changes_total');
    const activity = `${await metricTotal(service, 'churnstream_timer_evaluations_total')}/${changes}`;
    const backlog = await metricTotal(service, 'churnstream_timer_backlog');
    bar?.update(Math.min(consumed, history.length), {
      rate: Math.round(consumed / ((performance.now() - started) / 1000)),
      changes,
    });
    if (consumed < history.length || backlog > 0 || activity !== seen) quietSince = performance.now();
    else if (performance.now() - quietSince >= quietMs) break;
    seen = activity;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  bar?.stop();
  const drainSeconds = (performance.now() - started) / 1000;

  const tiers = ['low', 'medium', 'high', 'critical'];
  const riskChangesByTier = Object.fromEntries(
    await Promise.all(
      tiers.map(
        async (tier) =>
          [tier, await metricTotal(service, 'churnstream_risk_changes_total', (l) => l['to'] === tier)] as const,
      ),
    ),
  );
  const address = service.http.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.http.port;
  // The riskiest customers right now, through the query API like any client.
  const customers = [...new Set(history.map((e) => e.customerId))];
  const top = await riskiestCustomers(config, port, customers.slice(0, 400), 5);
  return {
    service,
    summary: {
      produced: history.length,
      produceSeconds,
      drainSeconds,
      riskChangesByTier,
      deadLetters: await metricTotal(service, 'churnstream_dead_letters_total'),
      timerEvaluations: await metricTotal(service, 'churnstream_timer_evaluations_total'),
      top,
      port,
    },
  };
}
