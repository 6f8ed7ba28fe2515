// Every Prometheus metric churnstream exports, declared in one place with bounded
// labels only (never a customer id). The registry is created by wiring and passed in.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface DriftReading {
  readonly features: readonly { readonly feature: string; readonly psi: number }[];
  readonly score: number;
  readonly window: number;
}

export function createMetrics(registry: Registry = new Registry()) {
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
    lag: new Gauge({
      name: 'churnstream_consumer_lag_records',
      help: 'High watermark minus the next offset to process.',
      labelNames: ['partition'],
      registers: [registry],
    }),
    modelInfo: new Gauge({
      name: 'churnstream_model_info',
      help: 'Loaded model versions (1 = active).',
      labelNames: ['kind', 'version'],
      registers: [registry],
    }),
    churnProbability: new Histogram({
      name: 'churnstream_churn_probability',
      help: 'Churn probability of event-triggered scorings; buckets match the reference score bins.',
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
      registers: [registry],
    }),
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
