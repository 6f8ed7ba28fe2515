// Feature names, in the one fixed order every model and dataset uses.
// Definitions, formulas and units: docs/FEATURES.md.

/** Behavioural quantities that also get fuzzy low/medium/high memberships (13 axes). */
export const AXIS_FEATURES = [
  'recency_days',
  'frequency_orders',
  'monetary_spend',
  'tenure_days',
  'avg_order_value',
  'inter_order_mean_days',
  'inter_order_cv',
  'overdue_ratio',
  'spend_trend',
  'frequency_trend',
  'refund_rate',
  'avg_basket_size',
  'active_period_share',
] as const;

/** Further raw quantities without memberships. */
export const EXTRA_FEATURES = ['lifetime_orders', 'lifetime_spend', 'inter_order_std_days', 'orders_last_90d'] as const;

export const RAW_FEATURES = [...AXIS_FEATURES, ...EXTRA_FEATURES] as const;

export const MEMBERSHIP_LEVELS = ['low', 'medium', 'high'] as const;

export type AxisFeature = (typeof AXIS_FEATURES)[number];
export type RawFeature = (typeof RAW_FEATURES)[number];
export type MembershipLevel = (typeof MEMBERSHIP_LEVELS)[number];

export const fuzzyFeatureName = (axis: AxisFeature, level: MembershipLevel): string => `fuzzy_${axis}_${level}`;

export const FUZZY_FEATURES: readonly string[] = AXIS_FEATURES.flatMap((axis) =>
  MEMBERSHIP_LEVELS.map((level) => fuzzyFeatureName(axis, level)),
);

/** All features in vector order: raw first, then 3 memberships per axis. */
export const FEATURE_NAMES: readonly string[] = [...RAW_FEATURES, ...FUZZY_FEATURES];

export const FEATURE_COUNT = FEATURE_NAMES.length;

export const featureIndex = (name: string): number => FEATURE_NAMES.indexOf(name);
