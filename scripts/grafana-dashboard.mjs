// Generates deploy/grafana/dashboards/churnstream.json and churnstream-rollout.json (both
// provisioned into Grafana). Panels are listed here once; re-run after changing them:
// node scripts/grafana-dashboard.mjs. A panel is [title, expr or [expr, ...], needs?]: `needs`
// names what must run before it can have data (a challenger, a recalibration); it becomes the
// panel's description, and the scrape tests check such a panel for data only when it runs.
import { writeFileSync } from 'node:fs';

const NEEDS = {
  challenger:
    'Empty until a challenger runs (CHURNSTREAM_CHALLENGER_CHURN_MODEL or churnstream models challenger) and labels resolve.',
  recalibration: 'Empty until a recalibration is applied (churnstream models recalibrate).',
};

// The role of each churn version in force (champion / challenger), to join onto per-version
// series; topk keeps one role per version when a version plays both (an LTV-only challenger).
const ROLE =
  'topk by (model_version) (1, max by (model_version, role) (0 * label_replace(churnstream_model_role{kind="churn"}, "model_version", "$1", "version", "(.*)") + 1))';
const byRole = (metric) => `max by (model_version) (${metric}) * on (model_version) group_left (role) ${ROLE}`;

const rows = [
  [
    'Flow',
    [
      ['Events consumed / s', 'sum(rate(churnstream_events_consumed_total[1m]))'],
      ['Events by outcome / s', 'sum by (outcome) (rate(churnstream_events_processed_total[1m]))'],
      ['Risk changes / min by new tier', 'sum by (to) (rate(churnstream_risk_changes_total[5m])) * 60'],
      ['Timer rescorings / s', 'rate(churnstream_timer_evaluations_total[1m])'],
    ],
  ],
  [
    'Lag',
    [
      ['Consumer lag by partition (fetched batches)', 'max by (partition) (churnstream_consumer_lag_records)'],
      ['Committed group lag by partition (broker view)', 'max by (partition) (churnstream_consumer_group_lag_records)'],
      ['Total committed lag', 'sum(max by (partition) (churnstream_consumer_group_lag_records))'],
      ['Timer backlog by partition', 'churnstream_timer_backlog'],
      ['Rebalances (15 min)', 'increase(churnstream_rebalances_total[15m])'],
    ],
  ],
  [
    'Latency',
    [
      [
        'Batch duration p99',
        'histogram_quantile(0.99, sum by (le) (rate(churnstream_batch_duration_seconds_bucket[5m])))',
      ],
      [
        'Batch duration p50',
        'histogram_quantile(0.5, sum by (le) (rate(churnstream_batch_duration_seconds_bucket[5m])))',
      ],
      [
        'End-to-end latency p99 (event time to processed)',
        'histogram_quantile(0.99, sum by (le) (rate(churnstream_end_to_end_latency_seconds_bucket[5m])))',
      ],
      [
        'Schema registry request p99 by operation',
        'histogram_quantile(0.99, sum by (le, operation) (rate(churnstream_registry_request_duration_seconds_bucket[5m])))',
      ],
      [
        'Redis round trip p99 by operation',
        'histogram_quantile(0.99, sum by (le, operation) (rate(churnstream_redis_call_duration_seconds_bucket[5m])))',
      ],
    ],
  ],
  [
    'Errors and dead letters',
    [
      ['Dead letters / min by reason', 'sum by (reason) (rate(churnstream_dead_letters_total[5m])) * 60'],
      ['State write conflicts / min', 'rate(churnstream_state_conflicts_total[5m]) * 60'],
    ],
  ],
  [
    'Model health',
    [
      ['Score PSI vs training', 'churnstream_score_psi'],
      ['Feature PSI (top 10)', 'topk(10, churnstream_feature_psi)'],
      ['AUC on resolved labels', 'churnstream_model_auc'],
      ['Calibration error', 'churnstream_model_calibration_error'],
      ['Brier score', 'churnstream_model_brier_score'],
      ['Top-decile lift', 'churnstream_model_top_decile_lift'],
      ['Predicted vs realised churn rate', 'churnstream_predicted_churn_rate'],
      ['Realised churn rate', 'churnstream_realised_churn_rate'],
      ['Reliability: observed rate by bin', 'churnstream_reliability_observed_rate'],
      ['LTV: realised / predicted', 'churnstream_ltv_realised_to_predicted_ratio'],
      ['LTV: interval coverage', 'churnstream_ltv_interval_coverage'],
      ['LTV by decile: predicted mean', 'churnstream_ltv_decile_predicted_mean'],
      ['LTV by decile: realised mean', 'churnstream_ltv_decile_realised_mean'],
      ['Score distribution', 'sum by (le) (rate(churnstream_churn_probability_bucket[15m]))'],
      ['Model in use', 'churnstream_model_info'],
    ],
  ],
  [
    'Runtime',
    [
      ['Event loop lag p99', 'nodejs_eventloop_lag_p99_seconds'],
      ['Heap used', 'nodejs_heap_size_used_bytes'],
      ['Resident memory', 'process_resident_memory_bytes'],
      ['CPU', 'rate(process_cpu_seconds_total[1m])'],
    ],
  ],
];

const rolloutRows = [
  [
    'Versions in force',
    [
      ['Role and share of customers by version', 'max by (kind, role, version) (churnstream_model_role)'],
      ['AUC by version (role)', byRole('churnstream_model_auc')],
      ['Calibration error by version (role)', byRole('churnstream_model_calibration_error')],
      ['Brier score by version (role)', byRole('churnstream_model_brier_score')],
      ['Top-decile lift by version (role)', byRole('churnstream_model_top_decile_lift')],
      ['Predicted churn rate by version (role)', byRole('churnstream_predicted_churn_rate')],
      ['Realised churn rate by version (role)', byRole('churnstream_realised_churn_rate')],
    ],
  ],
  [
    'Champion vs challenger (paired labels)',
    [
      [
        'AUC difference (challenger - champion), 95% interval',
        [
          'churnstream_model_auc_difference',
          'churnstream_model_auc_difference_low',
          'churnstream_model_auc_difference_high',
        ],
        'challenger',
      ],
      ['Paired labels', 'churnstream_model_comparison_labels', 'challenger'],
      [
        'Verdict (0 challenger better, 1 champion better, 2 equivalent, 3 insufficient)',
        'churnstream_model_comparison_verdict',
        'challenger',
      ],
    ],
  ],
  [
    'Recalibration from the stream',
    [
      [
        'Calibration error on held-out labels when fitted, before / after',
        'churnstream_model_recalibration_error',
        'recalibration',
      ],
    ],
  ],
];

const DATASOURCE = { type: 'prometheus', uid: 'prometheus' };

function panelsOf(rowList) {
  let id = 1;
  let y = 0;
  const panels = [];
  for (const [title, items] of rowList) {
    panels.push({ id: id++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: y++ }, panels: [] });
    items.forEach(([panelTitle, exprs, needs], index) => {
      panels.push({
        id: id++,
        type: 'timeseries',
        title: panelTitle,
        ...(needs === undefined ? {} : { description: NEEDS[needs] }),
        datasource: DATASOURCE,
        gridPos: { h: 8, w: 6, x: (index % 4) * 6, y: y + Math.floor(index / 4) * 8 },
        targets: [exprs]
          .flat()
          .map((expr, k) => ({ refId: String.fromCharCode(65 + k), expr, datasource: DATASOURCE })),
        fieldConfig: { defaults: {}, overrides: [] },
        options: { legend: { displayMode: 'list', placement: 'bottom' } },
      });
    });
    y += Math.ceil(items.length / 4) * 8;
  }
  return panels;
}

function write(file, uid, title, rowList) {
  const panels = panelsOf(rowList);
  const dashboard = {
    uid,
    title,
    tags: ['churnstream'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    panels,
  };
  writeFileSync(
    new URL(`../deploy/grafana/dashboards/${file}`, import.meta.url),
    `${JSON.stringify(dashboard, null, 2)}\n`,
  );
  console.log(`${file}: ${panels.length} panels written`);
}

write('churnstream.json', 'churnstream', 'churnstream', rows);
write(
  'churnstream-rollout.json',
  'churnstream-rollout',
  'churnstream rollout: champion, challenger, recalibration',
  rolloutRows,
);
