// Model artifact configs (models/<kind>/<version>/config.json) and the checks that
// make a model safe to serve: its features must all be provided by the feature spec.
import { z } from 'zod';

export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
}

const probability = z.number().min(0).max(1);
const isNonDecreasing = (values: readonly number[]): boolean =>
  values.every((v, i) => i === 0 || v >= (values[i - 1] ?? v));

// A calibration must keep the model's ranking (AUC, lift, the reasons' direction: a reason that
// raises the raw score raises the probability): Platt with a > 0, isotonic non-decreasing in both
// coordinates. A map that inverts or leaves [0, 1] is a broken artifact, refused at load.
const calibrationSchema = z
  .discriminatedUnion('method', [
    z.object({ method: z.literal('none') }),
    // p' = sigmoid(a * logit(p) + b)
    z.object({
      method: z.literal('platt'),
      a: z.number().finite().positive({ message: 'a must be > 0 (a calibration keeps the ranking)' }),
      b: z.number().finite(),
    }),
    // piecewise-linear through (x_i, y_i), x ascending, flat beyond the ends
    z.object({ method: z.literal('isotonic'), x: z.array(probability).min(2), y: z.array(probability).min(2) }),
  ])
  .superRefine((calibration, ctx) => {
    if (calibration.method !== 'isotonic') return;
    const { x, y } = calibration;
    if (x.length !== y.length) ctx.addIssue({ code: 'custom', message: `x has ${x.length} knots, y ${y.length}` });
    if (!isNonDecreasing(x)) ctx.addIssue({ code: 'custom', path: ['x'], message: 'must be ascending' });
    if (!isNonDecreasing(y))
      ctx.addIssue({ code: 'custom', path: ['y'], message: 'must not decrease (a calibration keeps the ranking)' });
  });

export type Calibration = z.infer<typeof calibrationSchema>;

export const churnConfigSchema = z.object({
  kind: z.literal('churn'),
  version: z.string().min(1),
  model_file: z.string().min(1).default('model.txt'),
  feature_names: z.array(z.string().min(1)).min(1),
  feature_spec_version: z.string().min(1),
  threshold: z.number().gt(0).lt(1),
  calibration: calibrationSchema.default({ method: 'none' }),
  prediction_window_days: z.number().int().positive().default(90),
});

export const ltvConfigSchema = z.object({
  kind: z.literal('ltv'),
  version: z.string().min(1),
  model_file: z.string().min(1).default('model.json'),
  feature_names: z.array(z.string().min(1)).min(1),
  feature_spec_version: z.string().min(1),
  /** The window in months, as risk-change events carry it (prediction_window_months). */
  window_months: z.number().int().positive().default(12),
  /** The window in days the model was trained for; labels resolve after it (default window_months * 30). */
  window_days: z.number().int().positive().optional(),
  segment_cutoffs: z.object({ medium: z.number(), high: z.number() }).refine((c) => c.medium <= c.high),
  /**
   * Two-part model: predicted_ltv = (1 - P(no spend in the window)) * GLM mean of those who spend.
   * P(no spend) comes from `zero_model` (training/ltv.py, a logistic regression on the GLM's
   * preprocessed inputs) or, in artifacts without one, from the churn probability (right only
   * when the LTV window is the churn window).
   */
  two_part: z.boolean().default(true),
  zero_model: z
    .object({
      coef: z.array(z.number().refine(Number.isFinite, 'must be finite')),
      intercept: z.number().refine(Number.isFinite, 'must be finite'),
    })
    .optional(),
});

export type ChurnConfig = z.infer<typeof churnConfigSchema>;
export type LtvConfig = z.infer<typeof ltvConfigSchema>;

export function parseConfig<T>(schema: z.ZodType<T>, document: unknown, where: string): T {
  const parsed = schema.safeParse(document);
  if (!parsed.success) {
    throw new ArtifactError(
      `${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/**
 * Positions of the model's features in the served feature vector. Fails listing every
 * feature the model needs that the spec does not compute (and any name mismatch
 * between the model file and its config).
 */
export function featureMapping(
  modelFeatures: readonly string[],
  configFeatures: readonly string[],
  specFeatures: readonly string[],
  where: string,
): Int32Array {
  if (modelFeatures.join('\u0000') !== configFeatures.join('\u0000')) {
    const onlyModel = modelFeatures.filter((f) => !configFeatures.includes(f));
    const onlyConfig = configFeatures.filter((f) => !modelFeatures.includes(f));
    throw new ArtifactError(
      `${where}: model file and config.json disagree on feature_names (only in model: [${onlyModel.join(', ')}]; only in config: [${onlyConfig.join(', ')}]; or a different order)`,
    );
  }
  const missing = modelFeatures.filter((f) => !specFeatures.includes(f));
  if (missing.length > 0) {
    throw new ArtifactError(
      `${where}: missing features (the model needs them, the feature spec does not compute them): [${missing.join(', ')}]`,
    );
  }
  return Int32Array.from(modelFeatures, (name) => specFeatures.indexOf(name));
}

export function calibrate(calibration: Calibration, p: number): number {
  switch (calibration.method) {
    case 'none':
      return p;
    case 'platt': {
      const clamped = Math.min(Math.max(p, 1e-15), 1 - 1e-15);
      const logit = Math.log(clamped / (1 - clamped));
      return 1 / (1 + Math.exp(-(calibration.a * logit + calibration.b)));
    }
    case 'isotonic': {
      const { x, y } = calibration;
      if (p <= (x[0] ?? 0)) return y[0] ?? p;
      if (!(p <= (x[x.length - 1] ?? 0))) return y[y.length - 1] ?? p;
      // The first knot at or above p, by bisection: a recalibrated model's map has hundreds.
      let lo = 1;
      let hi = x.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (p <= (x[mid] ?? 0)) hi = mid;
        else lo = mid + 1;
      }
      const x0 = x[lo - 1] ?? 0;
      const x1 = x[lo] ?? 0;
      const y0 = y[lo - 1] ?? 0;
      const y1 = y[lo] ?? 0;
      return x1 === x0 ? y1 : y0 + ((p - x0) / (x1 - x0)) * (y1 - y0);
    }
    default: {
      const unreachable: never = calibration;
      return unreachable;
    }
  }
}

const distribution = z.object({
  edges: z.array(z.number()),
  shares: z.array(z.number().min(0)),
  missing_share: z.number().min(0),
});

/** reference.json: training distributions on fixed bins (training/train.py). */
export const referenceSchema = z.object({
  features: z.record(z.string(), distribution),
  score: distribution,
});
