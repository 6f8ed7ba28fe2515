// `churnstream models compare`: champion and challenger side by side from the statistics the
// scorers keep in Redis (labels resolved per version, and the pairs both scored), with the
// AUC difference, its 95% interval (paired DeLong) and whether the evidence is sufficient.
import {
  brierScore,
  expectedCalibrationError,
  histogramAuc,
  type LabelStats,
  realisedChurnRate,
} from '../../core/monitoring/calibration.js';
import { type AucComparison, compareAuc, judge, type Verdict } from '../../core/monitoring/comparison.js';
import type { ComparisonStore, ModelHealthStore } from '../scorer/ports.js';

export interface VersionSummary {
  readonly version: string;
  readonly labels: number;
  readonly churned: number;
  readonly auc: number;
  readonly calibrationError: number;
  readonly brier: number;
  readonly churnRate: number;
}

export interface ComparisonReport {
  readonly champion: VersionSummary;
  readonly challenger: VersionSummary;
  readonly paired: AucComparison;
  readonly verdict: Verdict;
  readonly moreLabels: number | null;
}

function summary(version: string, stats: LabelStats): VersionSummary {
  const churned = stats.positives.reduce((s, v) => s + v, 0);
  return {
    version,
    labels: churned + stats.negatives.reduce((s, v) => s + v, 0),
    churned,
    auc: histogramAuc(stats),
    calibrationError: expectedCalibrationError(stats),
    brier: brierScore(stats),
    churnRate: realisedChurnRate(stats),
  };
}

export async function compareModels(
  stores: { readonly health: ModelHealthStore; readonly comparisons: ComparisonStore },
  champion: string,
  challenger: string,
): Promise<ComparisonReport> {
  const [a, b, pairs] = await Promise.all([
    stores.health.labelStats(champion),
    stores.health.labelStats(challenger),
    stores.comparisons.pairStats(champion, challenger),
  ]);
  const paired = compareAuc(pairs);
  return { champion: summary(champion, a), challenger: summary(challenger, b), paired, ...judge(paired) };
}

const fixed = (x: number, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const signed = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(4)}` : '-');

const VERDICTS: Record<Verdict, string> = {
  challenger_better: 'the challenger ranks better: sufficient evidence (the interval excludes 0)',
  champion_better: 'the champion ranks better: sufficient evidence (the interval excludes 0)',
  equivalent: 'no difference that matters: sufficient evidence (the interval lies within ±0.01)',
  insufficient: 'not sufficient yet',
};

export function formatComparison(report: ComparisonReport): string[] {
  const { paired } = report;
  const row = (role: string, s: VersionSummary) =>
    `${role.padEnd(11)}${s.version.padEnd(14)}${String(s.labels).padStart(9)}${String(s.churned).padStart(9)}  ${fixed(s.auc)}  ${fixed(s.calibrationError)}  ${fixed(s.brier)}  ${fixed(s.churnRate, 3)}`;
  const more =
    report.moreLabels === null ? '' : `; about ${report.moreLabels} more resolved labels needed (same rates)`;
  return [
    `${'role'.padEnd(11)}${'version'.padEnd(14)}${'labels'.padStart(9)}${'churned'.padStart(9)}  AUC     ECE     Brier   churn rate`,
    row('champion', report.champion),
    row('challenger', report.challenger),
    `paired labels ${paired.positives + paired.negatives} (churned ${paired.positives}): AUC champion ${fixed(paired.championAuc)}, challenger ${fixed(paired.challengerAuc)}`,
    `AUC difference (challenger - champion) ${signed(paired.difference)}, 95% CI [${signed(paired.low)}, ${signed(paired.high)}] (DeLong, paired)`,
    `verdict: ${VERDICTS[report.verdict]}${more}`,
  ];
}
