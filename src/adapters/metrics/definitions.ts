// Every Prometheus metric churnstream exports, declared in one place with bounded
// labels only (never a customer id). Serving them is the HTTP adapter's job; the values
// read at scrape time come from functions wiring passes in (which must not throw: a
// dependency that is down leaves its series out and says so in churnstream_series_stale).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import {
  brierScore,
  expectedCalibrationError,
  histogramAuc,
  type LabelStats,
  predictedChurnRate,
  realisedChurnRate,
  reliability,
} from '../../core/monitoring/calibration.js';
import { type AucComparison, judge, type Verdict } from '../../core/monitoring/comparison.js';
import { topDecileLift } from '../../core/monitoring/lift.js';
import {
  intervalCoverage,
  type LtvDecileRow,
  type LtvPair,
  ltvDeciles,
  realisedToPredicted,
} from '../../core/monitoring/ltv-calibration.js';

export interface DriftReading {
  readonly features: readonly { readonly feature: string; readonly psi: number }[];
  readonly score: number;
  readonly window: number;
}

/** A gauge per model version, computed at scrape time from what `read` returns per version. */
function versionGauge<T>(
  registry: Registry,
  name: string,
  help: string,
  read: () => Promise<ReadonlyMap<string, T>>,
  value: (reading: T) => number,
): Gauge {
  return new Gauge({
    name,
    help,
    labelNames: ['model_version'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [version, reading] of await read()) {
        const v = value(reading);
        if (Number.isFinite(v)) this.set({ model_version: version }, v);
      }
    },
  });
}

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
    modelComparison: (
      read: () => Promise<ReadonlyMap<string, AucComparison & { champion: string; challenger: string }>>,
    ) => {
      const gauge = (name: string, help: string, value: (c: AucComparison) => number) =>
        new Gauge({
          name,
          help,
          labelNames: ['champion', 'challenger'],
          registers: [registry],
          async collect() {
            this.reset();
            for (const c of (await read()).values()) {
              const v = value(c);
              if (Number.isFinite(v)) this.set({ champion: c.champion, challenger: c.challenger }, v);
            }
          },
        });
      gauge(
        'churnstream_model_auc_difference',
        'Challenger AUC minus champion AUC on the same resolved labels.',
        (c) => c.difference,
      );
      gauge(
        'churnstream_model_auc_difference_low',
        'Lower end of the 95% interval of the AUC difference (paired DeLong).',
        (c) => c.low,
      );
      gauge(
        'churnstream_model_auc_difference_high',
        'Upper end of the 95% interval of the AUC difference (paired DeLong).',
        (c) => c.high,
      );
      gauge(
        'churnstream_model_comparison_labels',
        'Resolved labels scored by both champion and challenger.',
        (c) => c.positives + c.negatives,
      );
      const verdicts: Verdict[] = ['challenger_better', 'champion_better', 'equivalent', 'insufficient'];
      gauge(
        'churnstream_model_comparison_verdict',
        `What the evidence supports: ${verdicts.map((v, i) => `${i} ${v}`).join(', ')}.`,
        (c) => verdicts.indexOf(judge(c).verdict),
      );
    },
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
    modelHealth: (read: () => Promise<ReadonlyMap<string, LabelStats>>) => {
      const gauge = (name: string, help: string, value: (stats: LabelStats) => number) =>
        versionGauge(registry, name, help, read, value);
      gauge('churnstream_model_auc', 'AUC of churn predictions on labels resolved by the stream.', histogramAuc);
      gauge(
        'churnstream_model_calibration_error',
        'Expected calibration error on resolved labels (10 bins).',
        expectedCalibrationError,
      );
      gauge('churnstream_model_brier_score', 'Brier score on resolved labels.', brierScore);
      gauge(
        'churnstream_model_top_decile_lift',
        'Churn rate of the 10% highest-scored resolved predictions over the overall rate (from the 10 bins).',
        topDecileLift,
      );
      gauge('churnstream_realised_churn_rate', 'Share of resolved predictions that churned.', realisedChurnRate);
      gauge(
        'churnstream_predicted_churn_rate',
        'Mean predicted churn probability of the resolved predictions.',
        predictedChurnRate,
      );
      new Gauge({
        name: 'churnstream_reliability_observed_rate',
        help: 'Reliability table: observed churn rate per predicted-probability bin (lower bound in `bin`).',
        labelNames: ['model_version', 'bin'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const [version, stats] of await read()) {
            for (const row of reliability(stats))
              this.set({ model_version: version, bin: (row.bin / 10).toFixed(1) }, row.observedRate);
          }
        },
      });
    },
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
    ltvHealth: (read: () => Promise<ReadonlyMap<string, readonly LtvPair[]>>) => {
      const perVersion = (name: string, help: string, value: (pairs: readonly LtvPair[]) => number) =>
        versionGauge(registry, name, help, read, value);
      perVersion(
        'churnstream_ltv_realised_to_predicted_ratio',
        'Sum of realised over sum of predicted LTV on the latest resolved LTV labels (1 = unbiased).',
        realisedToPredicted,
      );
      perVersion(
        'churnstream_ltv_interval_coverage',
        'Share of realised LTV inside the prediction interval on the latest resolved LTV labels.',
        intervalCoverage,
      );
      const decileGauge = (name: string, help: string, value: (row: LtvDecileRow) => number) =>
        new Gauge({
          name,
          help,
          labelNames: ['model_version', 'decile'],
          registers: [registry],
          async collect() {
            this.reset();
            for (const [version, pairs] of await read()) {
              for (const row of ltvDeciles(pairs))
                this.set({ model_version: version, decile: String(row.decile) }, value(row));
            }
          },
        });
      decileGauge(
        'churnstream_ltv_decile_predicted_mean',
        'Mean predicted LTV per decile of prediction (latest resolved LTV labels).',
        (row) => row.predictedMean,
      );
      decileGauge(
        'churnstream_ltv_decile_realised_mean',
        'Mean realised LTV per decile of prediction (latest resolved LTV labels).',
        (row) => row.realisedMean,
      );
    },
    /** Installs the timer backlog gauge (due timers per owned partition), read at scrape time. */
    timerBacklog: (read: () => Promise<ReadonlyMap<number, number>>) => {
      new Gauge({
        name: 'churnstream_timer_backlog',
        help: 'Customers whose rescoring timer is due but not yet processed, per owned partition.',
        labelNames: ['partition'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const [partition, due] of await read()) this.set({ partition: String(partition) }, due);
        },
      });
    },
    /** Installs the drift gauges; their values are read at scrape time from `read`. */
    drift: (read: () => DriftReading | null) => {
      new Gauge({
        name: 'churnstream_feature_psi',
        help: 'Population Stability Index of each feature over the recent scoring window vs the training reference.',
        labelNames: ['feature'],
        registers: [registry],
        collect() {
          this.reset();
          for (const { feature, psi } of read()?.features ?? []) if (Number.isFinite(psi)) this.set({ feature }, psi);
        },
      });
      new Gauge({
        name: 'churnstream_score_psi',
        help: 'Population Stability Index of the churn score over the recent scoring window vs the training reference.',
        registers: [registry],
        collect() {
          const score = read()?.score;
          if (score !== undefined && Number.isFinite(score)) this.set(score);
        },
      });
      new Gauge({
        name: 'churnstream_drift_window_scorings',
        help: 'Scorings in the drift window.',
        registers: [registry],
        collect() {
          this.set(read()?.window ?? 0);
        },
      });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
