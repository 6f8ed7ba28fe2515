// Scoring a Gamma GLM: the mean exp(intercept + sum coef_j * z_j) with z the
// preprocessed input, a central prediction interval from Y ~ Gamma(shape 1/phi,
// scale mean*phi), and exact per-feature contributions in log space (coef_j * z_j,
// relative to a customer at the training means; the intercept is the bias).
import gammaQuantile from '@stdlib/stats-base-dists-gamma-quantile';
import type { GammaGlm } from './model.js';

export interface GlmPrediction {
  readonly mean: number;
  readonly lower: number;
  readonly upper: number;
  /** log(mean) = bias + sum(contributions). */
  readonly contributions: Float64Array;
  readonly bias: number;
}

/** Preprocessed input z (imputation, log1p on flagged features, standardisation). */
export function preprocess(
  glm: GammaGlm,
  x: ArrayLike<number>,
  out: Float64Array = new Float64Array(glm.coef.length),
): Float64Array {
  for (let j = 0; j < out.length; j += 1) {
    let value = x[j] ?? Number.NaN;
    if (Number.isNaN(value)) value = glm.impute[j] ?? 0;
    if (glm.log1p[j]) value = Math.log1p(Math.max(value, 0));
    out[j] = (value - (glm.center[j] ?? 0)) / (glm.scale[j] ?? 1);
  }
  return out;
}

export function gammaInterval(glm: GammaGlm, mean: number): { lower: number; upper: number } {
  return zeroInflatedInterval(glm, mean, 0);
}

/**
 * Central interval of a two-part outcome: 0 with probability `zeroProbability`
 * (the customer churns), else Gamma with the GLM's mean. The mixture's quantile q is
 * 0 when q <= p0, else the Gamma quantile at (q - p0) / (1 - p0).
 */
export function zeroInflatedInterval(
  glm: GammaGlm,
  mean: number,
  zeroProbability: number,
): { lower: number; upper: number } {
  const shape = 1 / glm.dispersion;
  const rate = 1 / (mean * glm.dispersion);
  const tail = (1 - glm.intervalLevel) / 2;
  const quantile = (q: number) =>
    q <= zeroProbability ? 0 : gammaQuantile((q - zeroProbability) / (1 - zeroProbability), shape, rate);
  return { lower: quantile(tail), upper: quantile(1 - tail) };
}

/** The mean alone, exp(eta): what streaming scoring needs (no contributions, no interval). */
export function glmMean(glm: GammaGlm, x: ArrayLike<number>, scratch?: Float64Array): number {
  const z = preprocess(glm, x, scratch);
  let eta = glm.intercept;
  for (let j = 0; j < z.length; j += 1) eta += (glm.coef[j] ?? 0) * (z[j] ?? 0);
  return Math.exp(eta);
}

export function predictGlm(glm: GammaGlm, x: ArrayLike<number>): GlmPrediction {
  const z = preprocess(glm, x);
  const contributions = new Float64Array(z.length);
  let eta = glm.intercept;
  for (let j = 0; j < z.length; j += 1) {
    contributions[j] = (glm.coef[j] ?? 0) * (z[j] ?? 0);
    eta += contributions[j] ?? 0;
  }
  const mean = Math.exp(eta);
  return { mean, ...gammaInterval(glm, mean), contributions, bias: glm.intercept };
}
