// The rollout: which model versions are champion and challenger, and the challenger's share
// of customers. Every scorer process follows the same rollout (kept in Redis, changed by the
// `models` commands); each change is a new revision with a log entry saying who, when, why.
// Pure: the transitions below compute the next rollout, the caller stores it.
import type { StreamCalibration } from '../monitoring/recalibration.js';

export interface ModelPair {
  /** null: the newest version in the models directory (or the pinned one). */
  readonly churn: string | null;
  readonly ltv: string | null;
}

export interface Rollout {
  /** +1 per change; a writer that read an older revision loses (no lost update). */
  readonly revision: number;
  readonly champion: ModelPair;
  /** null: no challenger runs. */
  readonly challenger: ModelPair | null;
  /** Share of customers the challenger decides, 0..1 (0: shadow only). */
  readonly weight: number;
  /**
   * Recalibrations from the stream's labels, by churn version (absent in rollouts written
   * before there were any): whichever role a version plays, it is served recalibrated.
   */
  readonly calibrations?: Readonly<Record<string, StreamCalibration>>;
}

export type RolloutAction = 'promote' | 'rollback' | 'weight' | 'challenger' | 'recalibrate';

export interface RolloutLogEntry {
  readonly revision: number;
  /** ISO time of the change. */
  readonly at: string;
  readonly by: string;
  readonly action: RolloutAction;
  readonly why: string;
  readonly before: Rollout;
  readonly after: Rollout;
}

export class RolloutRefused extends Error {
  override readonly name = 'RolloutRefused';
}

/**
 * The challenger becomes the champion and the champion stays beside it in shadow (weight 0).
 * A side the two share is the new champion's (null) in the challenger: an LTV-only challenger,
 * promoted, leaves an LTV-only challenger, not the champion's churn model against itself.
 */
export function promote(current: Rollout): Rollout {
  if (current.challenger === null) throw new RolloutRefused('no challenger to promote');
  const champion: ModelPair = {
    churn: current.challenger.churn ?? current.champion.churn,
    ltv: current.challenger.ltv ?? current.champion.ltv,
  };
  const old = current.champion;
  const challenger: ModelPair = {
    churn: old.churn === champion.churn ? null : old.churn,
    ltv: old.ltv === champion.ltv ? null : old.ltv,
  };
  const next = { revision: current.revision + 1, champion, challenger, weight: 0 };
  return current.calibrations === undefined ? next : { ...next, calibrations: current.calibrations };
}

/**
 * Back to the rollout before the latest promotion (`log` newest first). A second rollback
 * is refused, not a silent repeat: the latest promotion is already undone, and stepping
 * further back through older promotions would surprise more than it helps (promote
 * again, or name the versions with `challenger` and `promote`, to go elsewhere).
 */
export function rollback(current: Rollout, log: readonly RolloutLogEntry[]): Rollout {
  const latest = log.find((entry) => entry.action === 'promote' || entry.action === 'rollback');
  if (latest === undefined) throw new RolloutRefused('no promotion in the rollout log to roll back');
  if (latest.action === 'rollback')
    throw new RolloutRefused(
      `the latest promotion was already rolled back (revision ${latest.revision}, by ${latest.by}); nothing left to undo: promote again to return to it`,
    );
  // Recalibrations belong to versions, not to the promotion: the ones in force stay.
  const { calibrations: _then, ...before } = latest.before;
  const next = { ...before, revision: current.revision + 1 };
  return current.calibrations === undefined ? next : { ...next, calibrations: current.calibrations };
}

export function withWeight(current: Rollout, weight: number): Rollout {
  if (!(weight >= 0 && weight <= 1)) throw new RolloutRefused(`weight ${weight} is not between 0 and 1`);
  if (current.challenger === null && weight > 0) throw new RolloutRefused('no challenger to give customers to');
  return { ...current, revision: current.revision + 1, weight };
}

/**
 * Another challenger starts in shadow (weight 0): the weight was given to the one before, on its
 * labels; a version never shadowed must not decide customers at once.
 */
export function withChallenger(current: Rollout, challenger: ModelPair | null): Rollout {
  return { ...current, revision: current.revision + 1, challenger, weight: 0 };
}

/** A recalibration for a churn version (null: serve it as its artifact says). */
export function withCalibration(current: Rollout, version: string, calibration: StreamCalibration | null): Rollout {
  const { [version]: _replaced, ...others } = current.calibrations ?? {};
  const calibrations = calibration === null ? others : { ...others, [version]: calibration };
  return { ...current, revision: current.revision + 1, calibrations };
}

/** Whether two rollouts run the same models (a weight change alone moves only some customers). */
export const sameModels = (a: Rollout, b: Rollout): boolean =>
  a.champion.churn === b.champion.churn &&
  a.champion.ltv === b.champion.ltv &&
  (a.challenger?.churn ?? null) === (b.challenger?.churn ?? null) &&
  (a.challenger?.ltv ?? null) === (b.challenger?.ltv ?? null) &&
  (a.challenger === null) === (b.challenger === null) &&
  JSON.stringify(a.calibrations ?? {}) === JSON.stringify(b.calibrations ?? {});
