// `churnstream models compare`: champion and challenger side by side from the statistics the
// scorers keep in Redis (labels resolved per version, and the pairs both scored), with the
// AUC difference, its 95% interval (paired DeLong) and whether the evidence is sufficient.

import type { Rollout } from '../../core/experiments/rollout.js';
import {
  brierScore,
  expectedCalibrationError,
  histogramAuc,
  type LabelStats,
  realisedChurnRate,
} from '../../core/monitoring/calibration.js';
import { type AucComparison, compareAuc, judge, type Verdict } from '../../core/monitoring/comparison.js';
import { topDecileLift } from '../../core/monitoring/lift.js';
import { recalibratedVersion, type StreamCalibration } from '../../core/monitoring/recalibration.js';
import type { ComparisonStore, ModelHealthStore } from '../scorer/ports.js';

export interface VersionSummary {
  readonly version: string;
  readonly labels: number;
  readonly churned: number;
  readonly auc: number;
  readonly calibrationError: number;
  readonly brier: number;
  readonly churnRate: number;
  /** Churn rate of the top 10% by score over the overall rate (binned: see core/monitoring/lift.ts). */
  readonly topDecileLift: number;
  /** The stream's recalibration this version is served with, if any. */
  readonly recalibration: StreamCalibration | null;
}

export interface ComparisonReport {
  readonly champion: VersionSummary;
  readonly challenger: VersionSummary;
  readonly paired: AucComparison;
  /** The versions whose pairs `paired` counts (before their recalibration, while those are more). */
  readonly pairedOn: { readonly champion: string; readonly challenger: string };
  readonly verdict: Verdict;
  readonly moreLabels: number | null;
}

function summary(version: string, stats: LabelStats, recalibration: StreamCalibration | null): VersionSummary {
  const churned = stats.positives.reduce((s, v) => s + v, 0);
  return {
    version,
    labels: churned + stats.negatives.reduce((s, v) => s + v, 0),
    churned,
    auc: histogramAuc(stats),
    calibrationError: expectedCalibrationError(stats),
    brier: brierScore(stats),
    churnRate: realisedChurnRate(stats),
    topDecileLift: topDecileLift(stats),
    recalibration,
  };
}

/** A version as served: recalibrated (named <version>+cal<revision>) or not. */
export interface Recalibrated {
  readonly base: string;
  readonly calibration: StreamCalibration;
}

/** The name a churn version is served (and its labels counted) under: recalibrated or not. */
export const served = (rollout: Rollout, version: string | null): string | null => {
  const calibration = version === null ? undefined : rollout.calibrations?.[version];
  return version === null || calibration === undefined ? version : recalibratedVersion(version, calibration.revision);
};

/** The rollout's recalibrations by served version name. */
export const recalibrations = (rollout: Rollout): Map<string, Recalibrated> =>
  new Map(
    Object.entries(rollout.calibrations ?? {}).map(([base, calibration]) => [
      recalibratedVersion(base, calibration.revision),
      { base, calibration },
    ]),
  );

const pairCount = (p: AucComparison) => p.positives + p.negatives;

export async function compareModels(
  stores: { readonly health: ModelHealthStore; readonly comparisons: ComparisonStore },
  champion: string,
  challenger: string,
  /** The recalibrations in force, by served version name. */
  recalibrations: ReadonlyMap<string, Recalibrated> = new Map(),
): Promise<ComparisonReport> {
  const [a, b, pairs] = await Promise.all([
    stores.health.labelStats(champion),
    stores.health.labelStats(challenger),
    stores.comparisons.pairStats(champion, challenger),
  ]);
  let paired = compareAuc(pairs);
  let pairedOn = { champion, challenger };
  // A recalibration keeps each version's ranking, so the pairs scored before it compare the
  // same rankings: until the recalibrated pair has more labels, the comparison uses those.
  const base = {
    champion: recalibrations.get(champion)?.base ?? champion,
    challenger: recalibrations.get(challenger)?.base ?? challenger,
  };
  if (base.champion !== champion || base.challenger !== challenger) {
    const before = compareAuc(await stores.comparisons.pairStats(base.champion, base.challenger));
    if (pairCount(before) > pairCount(paired)) {
      paired = before;
      pairedOn = base;
    }
  }
  const of = (version: string) => recalibrations.get(version)?.calibration ?? null;
  return {
    champion: summary(champion, a, of(champion)),
    challenger: summary(challenger, b, of(challenger)),
    paired,
    pairedOn,
    ...judge(paired),
  };
}

const fixed = (x: number, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : '-'.padEnd(digits + 2));
const signed = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(4)}` : '-');

/** The paired AUC difference with its 95% interval, as `compare` prints it (and `promote` quotes it). */
export const aucDifference = (paired: AucComparison): string =>
  `AUC difference (challenger - champion) ${signed(paired.difference)}, 95% CI [${signed(paired.low)}, ${signed(paired.high)}]`;

export const VERDICTS: Record<Verdict, string> = {
  challenger_better: 'the challenger ranks better: sufficient evidence (the interval excludes 0)',
  champion_better: 'the champion ranks better: sufficient evidence (the interval excludes 0)',
  equivalent: 'no difference that matters: sufficient evidence (the interval lies within ±0.01)',
  insufficient: 'not sufficient yet',
};

/** Labels of one customer are not independent: how many customers stand behind them. */
const customers = (paired: AucComparison): string =>
  paired.customers > 0 ? `about ${paired.customers} customers` : 'customers not counted (labels from before they were)';

export function formatComparison(report: ComparisonReport): string[] {
  const { paired } = report;
  const row = (role: string, s: VersionSummary) =>
    `${role.padEnd(11)}${s.version.padEnd(14)}${String(s.labels).padStart(9)}${String(s.churned).padStart(9)}  ${fixed(s.auc)}  ${fixed(s.calibrationError)}  ${fixed(s.brier)}  ${fixed(s.churnRate, 3).padEnd(10)}  ${fixed(s.topDecileLift, 2)}`;
  const recalibrated = (s: VersionSummary) => {
    const r = s.recalibration;
    return r === null
      ? []
      : [
          `${s.version}: recalibrated (revision ${r.revision}) on ${r.fittedOn.labels} labels of ${r.fittedOn.version}; calibration error on held-out labels ${fixed(r.heldOut.before)} -> ${fixed(r.heldOut.after)} (${r.heldOut.folds}-fold), on its own labels since: ${fixed(s.calibrationError)}`,
        ];
  };
  const oneClass =
    paired.positives + paired.negatives > 0 && Math.min(paired.positives, paired.negatives) === 0
      ? `; every paired label so far ${paired.positives === 0 ? 'retained' : 'churned'}: how many more are needed cannot be told yet`
      : '';
  const more =
    report.moreLabels === null ? oneClass : `; about ${report.moreLabels} more resolved labels needed (same rates)`;
  const lines = [
    `${'role'.padEnd(11)}${'version'.padEnd(14)}${'labels'.padStart(9)}${'churned'.padStart(9)}  AUC     ECE     Brier   churn rate  top-10% lift`,
    row('champion', report.champion),
    row('challenger', report.challenger),
    ...recalibrated(report.champion),
    ...recalibrated(report.challenger),
    ...(report.pairedOn.champion === report.champion.version && report.pairedOn.challenger === report.challenger.version
      ? []
      : [
          `paired labels of ${report.pairedOn.champion} vs ${report.pairedOn.challenger}, before recalibration (it keeps each ranking):`,
        ]),
    `paired labels ${paired.positives + paired.negatives} (churned ${paired.positives}) from ${customers(paired)}: AUC champion ${fixed(paired.championAuc)}, challenger ${fixed(paired.challengerAuc)}`,
    `${aucDifference(paired)} (DeLong, paired${paired.designEffect > 1 ? `; variance x${paired.designEffect.toFixed(2)} for repeated customers` : ''})`,
    `verdict: ${VERDICTS[report.verdict]}${more}`,
  ];
  return lines.map((line) => line.trimEnd());
}
