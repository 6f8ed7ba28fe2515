// When can the churn score of a silent customer next change? Features move with time
// (recency and tenure tick every day, orders leave windows), but a tree model only sees
// which side of its split thresholds each feature is on. nextRelevantChange() returns
// the first time a feature the model uses moves into another decision region, so a
// customer silent for months is rescored a handful of times instead of once a day,
// and still at exactly the moments the score changes.
//
// Day ticks are skipped analytically: recency_days, tenure_days and overdue_ratio (and
// their memberships) are functions of whole days since an anchor, so the days on which
// they change region are known in advance (per model and feature spec for recency and
// tenure; per customer's mean gap for the overdue ratio). Other candidates (orders
// leaving a window, refunds) come from the exhaustive candidate list. Every candidate is
// confirmed by reading the features, so an early candidate only costs a read.

import { advanceDays, featuresAt } from '../features/extract.js';
import { writeMemberships } from '../features/fuzzy.js';
import { type AxisFeature, FEATURE_NAMES, featureIndex, fuzzyFeatureName } from '../features/names.js';
import type { NextChange } from '../features/next-change.js';
import { structuralCandidates } from '../features/next-change.js';
import type { Breakpoints, FeatureSpec } from '../features/spec.js';
import { type FeatureRegions, featureRegions, sameRegion } from '../models/lightgbm/regions.js';
import type { ChurnModel } from '../models/scoring.js';
import type { CustomerState } from '../state/customer-state.js';
import { DAY_MS } from '../time.js';

interface UsedFeature {
  /** Position in the served feature vector. */
  readonly index: number;
  readonly regions: FeatureRegions;
}

export interface TimeSensitivity {
  readonly used: readonly UsedFeature[];
  /** Whole days since the last order on which a recency-derived used feature changes region. */
  readonly recencyDays: Float64Array;
  /** The same for days since the first order (tenure). */
  readonly tenureDays: Float64Array;
  /**
   * Overdue-ratio values at or just after which an overdue-derived used feature may
   * change region (thresholds, breakpoints and membership preimages; confirmed later).
   */
  readonly overdueRatios: Float64Array;
}

const MEMBERSHIP_SUFFIXES = ['low', 'medium', 'high'] as const;

/** The used features derived from one axis: the raw value and its three memberships. */
function axisFeatures(used: readonly UsedFeature[], axis: AxisFeature): (UsedFeature | undefined)[] {
  const names = [axis, ...MEMBERSHIP_SUFFIXES.map((level) => fuzzyFeatureName(axis, level))];
  return names.map((name) => used.find((u) => u.index === featureIndex(name)));
}

/** Days 1..horizon on which the axis value `day` moves some used feature into another region. */
function criticalDays(used: readonly UsedFeature[], axis: AxisFeature, breakpoints: Breakpoints): Float64Array {
  const derived = axisFeatures(used, axis);
  if (derived.every((u) => u === undefined)) return new Float64Array(0);
  const raw = derived[0];
  const lastThreshold = raw === undefined ? 0 : (raw.regions.thresholds.at(-1) ?? 0);
  // Past the last breakpoint and the last raw threshold nothing derived from the axis moves.
  const horizon = Math.min(100_000, Math.ceil(Math.max(breakpoints[2], lastThreshold, 0)) + 2);
  const values = (day: number): Float64Array => {
    const out = new Float64Array(4);
    out[0] = day;
    writeMemberships(day, breakpoints, out, 1);
    return out;
  };
  const days: number[] = [];
  let previous = values(0);
  for (let day = 1; day <= horizon; day += 1) {
    const current = values(day);
    if (derived.some((u, k) => u !== undefined && !sameRegion(u.regions, previous[k] ?? 0, current[k] ?? 0)))
      days.push(day);
    previous = current;
  }
  return Float64Array.from(days);
}

/** Ratio values near which the overdue ratio's used features may change region. */
function criticalRatios(used: readonly UsedFeature[], [a, b, c]: Breakpoints): Float64Array {
  const [raw, ...memberships] = axisFeatures(used, 'overdue_ratio');
  const values = new Set<number>([0]);
  for (const t of raw?.regions.thresholds ?? []) values.add(t);
  // Where each membership equals one of its thresholds, on the ramp(s) where it moves.
  const [low, medium, high] = memberships;
  const preimages = (u: UsedFeature | undefined, at: (theta: number) => number[]) => {
    for (const theta of u?.regions.thresholds ?? []) for (const x of at(theta)) values.add(x);
  };
  preimages(low, (theta) => [b - theta * (b - a)]);
  preimages(medium, (theta) => [b - (1 - theta) * (b - a), b + (1 - theta) * (c - b)]);
  preimages(high, (theta) => [b + theta * (c - b)]);
  if (memberships.some((u) => u !== undefined)) for (const point of [a, b, c]) values.add(point);
  for (const v of values) if (!Number.isFinite(v)) values.delete(v);
  return Float64Array.from([...values].filter((v) => v >= 0).sort((x, y) => x - y));
}

const TIME_AXES: readonly AxisFeature[] = ['recency_days', 'tenure_days', 'overdue_ratio'];

const cache = new WeakMap<ChurnModel, TimeSensitivity | null>();

/**
 * What time can change for this model, or null when the model depends on the exact
 * value of a time-driven feature (categorical or linear-leaf use): then every change counts.
 */
export function timeSensitivity(churn: ChurnModel): TimeSensitivity | null {
  const cached = cache.get(churn);
  if (cached !== undefined) return cached;
  const used = featureRegions(churn.model).map((regions) => ({
    index: churn.inputIndex[regions.feature] ?? -1,
    regions,
  }));
  const timeDriven = new Set(
    TIME_AXES.flatMap((axis) => [axis, ...MEMBERSHIP_SUFFIXES.map((level) => fuzzyFeatureName(axis, level))]),
  );
  const exactOnTime = used.some((u) => u.regions.exact && timeDriven.has(FEATURE_NAMES[u.index] ?? ''));
  const { breakpoints } = churn.spec;
  const sensitivity = exactOnTime
    ? null
    : {
        used,
        recencyDays: criticalDays(used, 'recency_days', breakpoints.recency_days),
        tenureDays: criticalDays(used, 'tenure_days', breakpoints.tenure_days),
        overdueRatios: criticalRatios(used, breakpoints.overdue_ratio),
      };
  cache.set(churn, sensitivity);
  return sensitivity;
}

/** Smallest element of an ascending array greater than x, or NaN. */
function firstAbove(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length ? (sorted[lo] ?? Number.NaN) : Number.NaN;
}

const GAP_MEAN = featureIndex('inter_order_mean_days');
// Candidate days for the overdue ratio are taken a little early: floating-point rounding
// of ratio * gap must never put a candidate after the day the ratio really crosses.
const RATIO_SLACK_DAYS = 1e-6;

/** Earliest time after `from` at which a day tick may move a used time-driven feature. */
function dayTickCandidate(
  sensitivity: TimeSensitivity,
  firstOrder: number,
  lastOrder: number,
  gapMean: number,
  from: number,
): number {
  let best = Number.POSITIVE_INFINITY;
  if (!Number.isNaN(lastOrder)) {
    const recency = Math.floor((from - lastOrder) / DAY_MS);
    const day = firstAbove(sensitivity.recencyDays, recency);
    if (!Number.isNaN(day)) best = Math.min(best, lastOrder + day * DAY_MS);
    if (gapMean > 0) {
      const ratio = firstAbove(sensitivity.overdueRatios, recency / gapMean - RATIO_SLACK_DAYS / gapMean);
      if (!Number.isNaN(ratio)) {
        const ratioDay = Math.max(recency + 1, Math.ceil(ratio * gapMean - RATIO_SLACK_DAYS));
        best = Math.min(best, lastOrder + ratioDay * DAY_MS);
      }
    }
  }
  if (!Number.isNaN(firstOrder)) {
    const day = firstAbove(sensitivity.tenureDays, Math.floor((from - firstOrder) / DAY_MS));
    if (!Number.isNaN(day)) best = Math.min(best, firstOrder + day * DAY_MS);
  }
  return best;
}

function sameRegions(sensitivity: TimeSensitivity, a: Float64Array, b: Float64Array): boolean {
  return sensitivity.used.every((u) => sameRegion(u.regions, a[u.index] ?? 0, b[u.index] ?? 0));
}

/** Candidates confirmed before giving up and returning a (still safe, early) candidate. */
const MAX_CONFIRMATIONS = 256;

/**
 * The first time after asOf at which a feature the model uses changes region, capped at
 * asOf + maxStalenessMs. `current` is the feature vector as of asOf, when already known.
 */
export function nextRelevantChange(
  state: CustomerState,
  asOf: number,
  spec: FeatureSpec,
  maxStalenessMs: number,
  sensitivity: TimeSensitivity,
  current: Float64Array = featuresAt(state, asOf, spec),
): NextChange {
  const cap = asOf + maxStalenessMs;
  let from = asOf;
  let fromFeatures = current;
  for (let attempt = 0; attempt < MAX_CONFIRMATIONS; attempt += 1) {
    const structural = structuralCandidates(state, from, spec);
    const gapMean = fromFeatures[GAP_MEAN] ?? Number.NaN;
    const dayTick = dayTickCandidate(sensitivity, structural.firstOrder, structural.lastOrder, gapMean, from);
    const candidate = Math.min(structural.time, dayTick);
    if (candidate > cap) return { at: cap, capped: true };
    // Before the next structural change only the day-driven features move: update those.
    const next =
      dayTick < structural.time
        ? advanceDays(fromFeatures, structural.firstOrder, structural.lastOrder, candidate, spec)
        : featuresAt(state, candidate, spec);
    if (!sameRegions(sensitivity, current, next)) return { at: candidate, capped: false };
    from = candidate;
    fromFeatures = next;
  }
  return { at: from, capped: false };
}
