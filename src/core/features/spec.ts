// The feature spec: everything that fixes what the features mean. It ships with the
// model artifacts (models/<kind>/<version>/feature-spec.json); a model is only valid
// with the spec version it was trained on. Fuzzy breakpoints are fitted on training
// data (training/ takes quantiles); the defaults below serve when no spec is loaded.
import { z } from 'zod';
import type { RetentionPolicy } from '../state/customer-state.js';
import { AXIS_FEATURES, type AxisFeature } from './names.js';

/** Breakpoints a <= b <= c: low falls from 1 at a to 0 at b, medium peaks at b, high rises from b to 1 at c. */
export type Breakpoints = readonly [number, number, number];

export interface FeatureSpec {
  readonly version: string;
  readonly retention: RetentionPolicy;
  /** Length of the "recent" part of the window for trends is windowDays / 2. */
  readonly recentDays: number;
  /** Size of the periods that active_period_share counts, days. */
  readonly periodDays: number;
  readonly breakpoints: Readonly<Record<AxisFeature, Breakpoints>>;
}

export const DEFAULT_FEATURE_SPEC: FeatureSpec = {
  version: 'default-1',
  retention: { windowDays: 180, allowedLatenessDays: 30, maxRetainedOrders: 1000 },
  recentDays: 90,
  periodDays: 30,
  breakpoints: {
    recency_days: [14, 60, 150],
    frequency_orders: [1, 3, 10],
    monetary_spend: [50, 250, 1500],
    tenure_days: [60, 365, 900],
    avg_order_value: [20, 60, 250],
    inter_order_mean_days: [10, 30, 75],
    inter_order_cv: [0.3, 0.8, 1.5],
    overdue_ratio: [0.5, 1.5, 4],
    spend_trend: [-0.8, 0, 0.8],
    frequency_trend: [-0.8, 0, 0.8],
    refund_rate: [0, 0.05, 0.3],
    avg_basket_size: [1, 5, 20],
    active_period_share: [0.17, 0.5, 0.84],
  },
};

const breakpoints = z
  .tuple([z.number(), z.number(), z.number()])
  .refine(([a, b, c]) => a <= b && b <= c, 'breakpoints must satisfy a <= b <= c');

export const featureSpecSchema = z
  .object({
    version: z.string().min(1),
    retention: z.object({
      windowDays: z.number().int().positive(),
      allowedLatenessDays: z.number().int().nonnegative(),
      maxRetainedOrders: z.number().int().positive(),
    }),
    recentDays: z.number().int().positive(),
    periodDays: z.number().int().positive(),
    breakpoints: z.object(
      Object.fromEntries(AXIS_FEATURES.map((axis) => [axis, breakpoints])) as Record<AxisFeature, typeof breakpoints>,
    ),
  })
  .refine((spec) => spec.recentDays < spec.retention.windowDays, 'recentDays must be shorter than the window')
  .refine((spec) => spec.retention.windowDays % spec.periodDays === 0, 'windowDays must be a multiple of periodDays');

/** Validates a parsed feature-spec JSON document; throws with every problem listed. */
export function parseFeatureSpec(document: unknown): FeatureSpec {
  const parsed = featureSpecSchema.safeParse(document);
  if (!parsed.success) {
    throw new Error(
      `invalid feature spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data as FeatureSpec;
}
