// Every Prometheus metric churnstream exports, declared in one place with bounded
// labels only (never a customer id). Serving them is the HTTP adapter's job; the gauges
// whose values are read at scrape time are declared in scrape-gauges.ts.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import {
  installDrift,
  installLtvHealth,
  installModelComparison,
  installModelHealth,
  installTimerBacklog,
} from './scrape-gauges.js';

export function createMetrics(registry: Registry = new Registry()) {
  const staleSources: { settle: () => Promise<ReadonlyMap<string, number>> } = {
    settle: async () => new Map(),
  };
  collectDefaultMetrics({ register: registry });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    consumed: counter('churnstream_events_consumed_total', 'Input records received from Kafka.', ['partition']),
    deadLetters: counter('churnstream_dead_letters_total', 'Input records sent to the dead-letter topic, by reason.', [
      'reason',
    ]),
    applied: counter('churnstream_events_processed_total', 'Valid events by outcome on state.', ['outcome']),
    riskChanges: counter('churnstream_risk_changes_total', 'Risk-change events published, by transition.', [
      'from',
      'to',
      'trigger',
    ]),
    conflicts: counter(
      'churnstream_state_conflicts_total',
      'Customer state writes refused by the version fence (retried).',
    ),
    timerEvaluations: counter('churnstream_timer_evaluations_total', 'Customer rescorings triggered by time (timers).'),
    batchSeconds: new Histogram({
      name: 'churnstream_batch_duration_seconds',
      help: 'Time to process one input batch (decode, state, scoring, publish, write).',
      labelNames: ['partition'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    endToEndSeconds: new Histogram({
      name: 'churnstream_end_to_end_latency_seconds',
      help: "Wall-clock time from an event's event time to its processing (replays show their age).",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86_400, 2_592_000],
      registers: [registry],
    }),
    redisSeconds: new Histogram({
      name: 'churnstream_redis_call_duration_seconds',
      help: 'Redis round trips of a batch, by operation.',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    rebalances: counter('churnstream_rebalances_total', 'Consumer group joins (each rebalance moves partitions).'),
    lag: new Gauge({
      name: 'churnstream_consumer_lag_records',
      help: 'High watermark minus the next offset to process.',
      labelNames: ['partition'],
      registers: [registry],
    }),
    modelInfo: new Gauge({
      name: 'churnstream_model_info',
      help: 'The active model version of each kind (churn, ltv); version rules_v1 = rules fallback.',
      labelNames: ['kind', 'version'],
      registers: [registry],
    }),
    modelRole: new Gauge({
      name: 'churnstream_model_role',
      help: "Champion and challenger versions of each kind (churn, ltv); the value is the role's share of customers it decides (a challenger in shadow: 0).",
      labelNames: ['kind', 'role', 'version'],
      registers: [registry],
    }),
    /** Installs the champion/challenger comparison gauges (DeLong on paired labels), read at scrape time. */
    modelComparison: (read: Parameters<typeof installModelComparison>[1]) => installModelComparison(registry, read),
    rolloutRevision: new Gauge({
      name: 'churnstream_rollout_revision',
      help: 'The rollout revision stored in Redis and the one this process applied (state stored|applied; 0: none). Apart for long: a rollout this process cannot load (see its ERROR log).',
      labelNames: ['state'],
      registers: [registry],
    }),
    rolloutWeight: new Gauge({
      name: 'churnstream_rollout_weight',
      help: "The challenger's weight: as the rollout (or the settings) give it (state asked), and as this process serves it (state served; 0 without CHURNSTREAM_EXPERIMENT). Apart: customers the rollout gives the challenger are decided by the champion here.",
      labelNames: ['state'],
      registers: [registry],
    }),
    rolloutDisagreement: new Gauge({
      name: 'churnstream_rollout_processes_disagree',
      help: 'The running scorer processes report different models, experiments or weights (1): one customer may get two answers.',
      registers: [registry],
    }),
    rulesFallback: new Gauge({
      name: 'churnstream_rules_fallback',
      help: '1 when a kind (churn, ltv) is scored by the rules fallback because no model of it is loaded.',
      labelNames: ['kind'],
      registers: [registry],
    }),
    dependencyUp: new Gauge({
      name: 'churnstream_dependency_up',
      help: 'Whether the last call to a dependency (kafka, redis, registry) succeeded (1) or failed (0).',
      labelNames: ['dependency'],
      registers: [registry],
    }),
    waitSeconds: counter(
      'churnstream_dependency_wait_seconds_total',
      'Time consumption spent paused, waiting for a dependency to come back (transient failures), by dependency.',
      ['dependency'],
    ),
    httpRefused: counter(
      'churnstream_http_refused_total',
      'Customer API requests refused before reaching a route, by reason (unauthorized, rate_limited, overloaded).',
      ['reason'],
    ),
    seriesStale: new Gauge({
      name: 'churnstream_series_stale',
      help: 'Series read from a source at scrape time that could not be read this scrape (1: left out), by source.',
      labelNames: ['source'],
      registers: [registry],
      // Reported after this scrape's reads settled (not the last scrape's): see staleSeries.
      async collect() {
        for (const [source, stale] of await staleSources.settle()) this.set({ source }, stale);
      },
    }),
    /** Installs what the stale gauge waits for: this scrape's source reads, then their outcome. */
    staleSeries: (settle: () => Promise<ReadonlyMap<string, number>>) => {
      staleSources.settle = settle;
    },
    churnProbability: new Histogram({
      name: 'churnstream_churn_probability',
      help: 'Churn probability of event-triggered scorings; buckets match the reference score bins.',
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
      registers: [registry],
    }),
    modelRecalibration: new Gauge({
      name: 'churnstream_model_recalibration_error',
      help: 'A recalibrated churn version (model_version <version>+cal<revision>): calibration error on held-out labels when it was fitted, before (as the model scored) and after the map (stage).',
      labelNames: ['model_version', 'stage'],
      registers: [registry],
    }),
    labelsResolved: counter('churnstream_labels_resolved_total', 'Churn predictions whose label the stream resolved.', [
      'model_version',
      'label',
    ]),
    /** Installs the model-health gauges (from resolved labels, per model version), read at scrape time. */
    modelHealth: (read: Parameters<typeof installModelHealth>[1]) => installModelHealth(registry, read),
    ltvLabelsResolved: counter(
      'churnstream_ltv_labels_resolved_total',
      'LTV predictions whose window closed and whose realised value the stream recorded.',
      ['model_version'],
    ),
    registrySeconds: new Histogram({
      name: 'churnstream_registry_request_duration_seconds',
      help: 'Schema registry HTTP requests (cache misses only), by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    groupLag: new Gauge({
      name: 'churnstream_consumer_group_lag_records',
      help: "Latest offset minus the group's committed offset per partition (periodic admin check; all partitions, owned or not).",
      labelNames: ['partition'],
      registers: [registry],
    }),
    /** Installs the LTV health gauges (latest resolved LTV labels per model version), read at scrape time. */
    ltvHealth: (read: Parameters<typeof installLtvHealth>[1]) => installLtvHealth(registry, read),
    /** Installs the timer backlog gauge (due timers per owned partition), read at scrape time. */
    timerBacklog: (read: Parameters<typeof installTimerBacklog>[1]) => installTimerBacklog(registry, read),
    /** Installs the drift gauges; their values are read at scrape time from `read`. */
    drift: (read: Parameters<typeof installDrift>[1]) => installDrift(registry, read),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
