// The gauges whose values are computed when Prometheus scrapes (model health and comparison
// from resolved labels, LTV health, timer backlog, drift): each installer takes the function
// wiring passes in, which must not throw (a dependency that is down leaves its series out
// and says so in churnstream_series_stale).
import { Gauge, type Registry } from 'prom-client';
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

/** Installs the champion/challenger comparison gauges (DeLong on paired labels), read at scrape time. */
export function installModelComparison(
  registry: Registry,
  read: () => Promise<ReadonlyMap<string, AucComparison & { champion: string; challenger: string }>>,
): void {
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
  gauge(
    'churnstream_model_comparison_customers',
    'Distinct customers behind the paired labels (estimate); the interval is widened by labels per customer.',
    (c) => c.customers,
  );
  const verdicts: Verdict[] = ['challenger_better', 'champion_better', 'equivalent', 'insufficient'];
  gauge(
    'churnstream_model_comparison_verdict',
    `What the evidence supports: ${verdicts.map((v, i) => `${i} ${v}`).join(', ')}.`,
    (c) => verdicts.indexOf(judge(c).verdict),
  );
}

/** Installs the model-health gauges (from resolved labels, per model version), read at scrape time. */
export function installModelHealth(registry: Registry, read: () => Promise<ReadonlyMap<string, LabelStats>>): void {
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
}

/** Installs the LTV health gauges (latest resolved LTV labels per model version), read at scrape time. */
export function installLtvHealth(
  registry: Registry,
  read: () => Promise<ReadonlyMap<string, readonly LtvPair[]>>,
): void {
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
}

/** Installs the timer backlog gauge (due timers per owned partition), read at scrape time. */
export function installTimerBacklog(registry: Registry, read: () => Promise<ReadonlyMap<number, number>>): void {
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
}

/** Installs the drift gauges; their values are read at scrape time from `read`. */
export function installDrift(registry: Registry, read: () => DriftReading | null): void {
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
}
