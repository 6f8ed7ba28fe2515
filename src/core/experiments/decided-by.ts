// What decided the tiers of a partition's customers: the models in force (champion and
// challenger versions, recalibrations included in their names) and the experiment. Stored
// per partition when a rescoring finishes, it lets whoever owns the partition next see what
// changed since, whether the change happened while it ran, while another process owned the
// partition, or while no scorer ran at all, and rescore exactly what the change moves.
import { type Experiment, variantMoved } from './assignment.js';

export interface DecidedBy {
  /** Champion and challenger versions as one label (`<churn>/<ltv>[+<churn>/<ltv>]`). */
  readonly models: string;
  readonly experiment: Experiment | null;
  /**
   * The rollout revision in force (null: the settings). Not compared: it only names the
   * rescoring's cause. A change back to models that decided before (a rollback, a weight
   * lowered again) would otherwise give a quiet partition's customers risk changes with the
   * ids of the earlier ones (same customer, time, levels and cause), which a CRM that drops
   * repeated ids would drop.
   */
  readonly revision?: number | null;
}

/** What a partition decided by `before` needs now that `now` is in force. */
export type RescoreScope =
  | { readonly kind: 'none' }
  | { readonly kind: 'all'; readonly cause: string }
  | { readonly kind: 'moved'; readonly cause: string; readonly only: (customerId: string) => boolean };

/** The rescoring's cause: the models, the weight when an experiment runs, the rollout revision. */
export const causeOf = (now: DecidedBy): string => {
  const models = now.experiment === null ? now.models : `${now.models}@${now.experiment.challengerWeight}`;
  return now.revision == null ? models : `${models}#${now.revision}`;
};

const sameExperiment = (a: Experiment | null, b: Experiment | null): boolean =>
  a === null || b === null
    ? a === b
    : a.name === b.name && a.salt === b.salt && a.challengerWeight === b.challengerWeight;

/**
 * Other models: every customer. Same models, another experiment (weight, salt, none): the
 * customers whose variant moved. `before` unknown (a partition never marked, e.g. state
 * written by an older release): nothing; its customers are assumed decided by what runs.
 */
export function rescoreScope(before: DecidedBy | null, now: DecidedBy): RescoreScope {
  if (before === null) return { kind: 'none' };
  if (before.models !== now.models) return { kind: 'all', cause: causeOf(now) };
  if (sameExperiment(before.experiment, now.experiment)) return { kind: 'none' };
  const was = before.experiment;
  const is = now.experiment;
  return { kind: 'moved', cause: causeOf(now), only: (customerId) => variantMoved(was, is, customerId) };
}
