// Scoring a customer's feature vector with whatever models are loaded: LightGBM churn
// (calibrated) and the Gamma GLM LTV, or the rules fallback when a model is missing.
// Pure: models and features in, scores out.
import { topReasons } from '../decisions/reasons.js';
import { type ChurnScore, fallbackLtv, type LtvScore } from '../decisions/results.js';
import { RULES_VERSION, rulesChurnScore } from '../decisions/rules.js';
import { FEATURE_NAMES, featureIndex } from '../features/names.js';
import type { FeatureSpec } from '../features/spec.js';
import type { DriftReference } from '../monitoring/drift.js';
import { DAY_MS } from '../time.js';
import { ArtifactError, type ChurnConfig, calibrate, featureMapping, type LtvConfig } from './artifacts.js';
import { glmMean, zeroInflatedInterval } from './glm/evaluate.js';
import type { GammaGlm } from './glm/model.js';
import { predict } from './lightgbm/evaluate.js';
import type { LightGbmModel } from './lightgbm/model.js';
import { createShapExplainer, type ShapExplainer } from './lightgbm/shap.js';

export interface ChurnModel {
  readonly config: ChurnConfig;
  /** Training distributions of the features and the score (reference.json), for drift. */
  readonly reference: DriftReference | null;
  /** The feature spec the model was trained with: serving must compute features with it. */
  readonly spec: FeatureSpec;
  readonly model: LightGbmModel;
  readonly inputIndex: Int32Array;
  readonly explainer: ShapExplainer;
}

export interface LtvModel {
  readonly config: LtvConfig;
  readonly spec: FeatureSpec;
  readonly glm: GammaGlm;
  readonly inputIndex: Int32Array;
}

function checkSpec(configVersion: string, spec: FeatureSpec, where: string): void {
  if (spec.version !== configVersion) {
    throw new ArtifactError(
      `${where}: config.json says feature_spec_version ${configVersion}, feature-spec.json is ${spec.version}`,
    );
  }
}

export function prepareChurnModel(
  config: ChurnConfig,
  model: LightGbmModel,
  spec: FeatureSpec,
  where: string,
  reference: DriftReference | null = null,
): ChurnModel {
  checkSpec(config.feature_spec_version, spec, where);
  const inputIndex = featureMapping(model.featureNames, config.feature_names, FEATURE_NAMES, where);
  return { config, reference, spec, model, inputIndex, explainer: createShapExplainer(model) };
}

export function prepareLtvModel(config: LtvConfig, glm: GammaGlm, spec: FeatureSpec, where: string): LtvModel {
  checkSpec(config.feature_spec_version, spec, where);
  if (config.zero_model !== undefined && config.zero_model.coef.length !== glm.coef.length)
    throw new ArtifactError(
      `${where}: zero_model has ${config.zero_model.coef.length} coefficients, the GLM ${glm.coef.length}`,
    );
  return {
    config,
    spec,
    glm,
    inputIndex: featureMapping(glm.featureNames, config.feature_names, FEATURE_NAMES, where),
  };
}

// Per-model scratch rows: scoring runs on every rescoring, and fresh typed arrays per call
// were a measurable share of the scorer's garbage. Scoring is synchronous, so one each is safe.
const scratchRows = new WeakMap<object, Float64Array>();

/** The scratch row kept for `owner` (a model, or its input index), of `length` numbers. */
function scratchOf(owner: object, length: number): Float64Array {
  let row = scratchRows.get(owner);
  if (row === undefined) {
    row = new Float64Array(length);
    scratchRows.set(owner, row);
  }
  return row;
}

/** The model's inputs from the served vector, in a scratch row reused across calls. */
function pick(features: ArrayLike<number>, index: Int32Array): Float64Array {
  const x = scratchOf(index, index.length);
  for (let k = 0; k < index.length; k += 1) x[k] = features[index[k] as number] as number;
  return x;
}

/** Default threshold of the rules fallback (its documented operating point). */
export const RULES_THRESHOLD = 0.5;

export function scoreChurn(model: ChurnModel | null, features: ArrayLike<number>, withReasons: boolean): ChurnScore {
  if (model === null) {
    const rules = rulesChurnScore(features);
    return {
      ...rules,
      rank: rules.probability,
      modelVersion: RULES_VERSION,
      threshold: RULES_THRESHOLD,
      isRulesFallback: true,
    };
  }
  const x = pick(features, model.inputIndex);
  const rank = predict(model.model, x, scratchOf(model.model, model.model.numTreePerIteration))[0] ?? Number.NaN;
  const probability = calibrate(model.config.calibration, rank);
  const reasons = withReasons ? topReasons(model.model.featureNames, model.explainer.contributions(x), x) : [];
  return {
    probability,
    rank,
    reasons,
    modelVersion: model.config.version,
    threshold: model.config.threshold,
    isRulesFallback: false,
  };
}

const MONETARY = featureIndex('monetary_spend');

export function scoreLtv(
  model: LtvModel | null,
  features: ArrayLike<number>,
  churnProbability: number,
  windowDays: number,
): LtvScore {
  if (model === null) {
    const fallback = fallbackLtv(features[MONETARY] ?? 0, windowDays, churnProbability, 12);
    return {
      ...fallback,
      modelVersion: RULES_VERSION,
      segmentCutoffs: { medium: 100, high: 500 },
      windowMonths: 12,
      isRulesFallback: true,
    };
  }
  const z = scratchOf(model.glm, model.glm.coef.length);
  const mean = glmMean(model.glm, pick(features, model.inputIndex), z); // leaves the preprocessed input in z
  const zero = zeroProbability(model.config, z, churnProbability);
  const interval = zeroInflatedInterval(model.glm, mean, zero);
  return {
    value: mean * (1 - zero),
    low: interval.lower,
    high: interval.upper,
    modelVersion: model.config.version,
    segmentCutoffs: model.config.segment_cutoffs,
    windowMonths: model.config.window_months,
    isRulesFallback: false,
  };
}

/** Label horizon of churn predictions: the model's prediction window, 90 days without a model. */
export const labelHorizonMs = (churn: ChurnModel | null): number =>
  (churn?.config.prediction_window_days ?? 90) * DAY_MS;

/** P(no spend in the window): the hurdle's zero part on the preprocessed input z, or (older artifacts) the churn probability. */
function zeroProbability(config: LtvConfig, z: Float64Array, churnProbability: number): number {
  if (!config.two_part) return 0;
  if (config.zero_model === undefined) return churnProbability;
  let eta = config.zero_model.intercept;
  for (let j = 0; j < z.length; j += 1) eta += (config.zero_model.coef[j] ?? 0) * (z[j] ?? 0);
  return 1 / (1 + Math.exp(-eta));
}

/** Label window of LTV predictions: the model's window in days (else 30-day months; 12 without a model). */
export const ltvLabelHorizonMs = (ltv: LtvModel | null): number =>
  (ltv?.config.window_days ?? (ltv?.config.window_months ?? 12) * 30) * DAY_MS;
