// The LTV side of `churnstream models compare`: when the challenger brings its own LTV version,
// both versions' latest resolved LTV labels (the bounded list the scorers keep per version)
// side by side: how many, realised over predicted spend, the share inside the interval, and
// how well the highest predictions find the highest spenders (the top decile's realised mean
// over everyone's). Labels resolve a year after the prediction: expect few early on.

import type { Rollout } from '../../core/experiments/rollout.js';
import {
  intervalCoverage,
  type LtvPair,
  ltvDeciles,
  realisedToPredicted,
} from '../../core/monitoring/ltv-calibration.js';
import type { ModelHealthStore } from '../scorer/ports.js';

/** The LTV versions to compare: only when the challenger brings an LTV version of its own. */
export function ltvVersions(rollout: Rollout): { champion: string; challenger: string } | null {
  const champion = rollout.champion.ltv;
  const challenger = rollout.challenger?.ltv ?? null;
  return champion === null || challenger === null || champion === challenger ? null : { champion, challenger };
}

export interface LtvSummary {
  readonly version: string;
  readonly labels: number;
  readonly realisedToPredicted: number;
  readonly intervalCoverage: number;
  /** Realised mean of the tenth with the highest predictions over the realised mean of all. */
  readonly topDecileLift: number;
}

export interface LtvComparison {
  readonly champion: LtvSummary;
  readonly challenger: LtvSummary;
}

function topDecileLift(pairs: readonly LtvPair[]): number {
  const rows = ltvDeciles(pairs);
  const top = rows.at(-1);
  const total = rows.reduce((s, r) => s + r.count, 0);
  const mean = rows.reduce((s, r) => s + r.realisedMean * r.count, 0) / total;
  return top === undefined || rows.length < 10 || !(mean > 0) ? Number.NaN : top.realisedMean / mean;
}

export function ltvSummary(version: string, pairs: readonly LtvPair[]): LtvSummary {
  return {
    version,
    labels: pairs.length,
    realisedToPredicted: realisedToPredicted(pairs),
    intervalCoverage: intervalCoverage(pairs),
    topDecileLift: topDecileLift(pairs),
  };
}

export async function compareLtv(
  health: Pick<ModelHealthStore, 'ltvLabels'>,
  champion: string,
  challenger: string,
): Promise<LtvComparison> {
  const [a, b] = await Promise.all([health.ltvLabels(champion), health.ltvLabels(challenger)]);
  return { champion: ltvSummary(champion, a), challenger: ltvSummary(challenger, b) };
}

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

export function formatLtvComparison(c: LtvComparison): string[] {
  const row = (role: string, s: LtvSummary) =>
    `${role.padEnd(11)}${s.version.padEnd(14)}${String(s.labels).padStart(9)}  ${fixed(s.realisedToPredicted, 3).padStart(18)}  ${fixed(s.intervalCoverage, 3).padStart(17)}  ${fixed(s.topDecileLift, 2).padStart(12)}`;
  return [
    `${'LTV'.padEnd(11)}${'version'.padEnd(14)}${'labels'.padStart(9)}  realised/predicted  interval coverage  top-10% lift`,
    row('champion', c.champion),
    row('challenger', c.challenger),
  ].map((line) => line.trimEnd());
}
