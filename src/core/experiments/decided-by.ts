// What decided the tiers of a partition's customers: the models in force (champion and
// challenger versions, recalibrations included in their names) and the experiment. Stored
// per partition when a rescoring finishes, it lets whoever owns the partition next see what
// changed since, whether the change happened while it ran, while another process owned the
// partition, or while no scorer ran at all, and rescore exactly what the change moves.
import { type Experiment, variantMoved, variantOf } from './assignment.js';

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
  /**
   * The deciding versions of each variant (`<churn>/<ltv>`; challenger null: none loaded), so
   * a change rescores only the customers whose deciding models changed. Absent in marks
   * written by older releases: then any change of models rescores everyone.
   */
  readonly deciding?: { readonly champion: string; readonly challenger: string | null };
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

type Deciding = NonNullable<DecidedBy['deciding']>;

/** The versions that decide this customer: its variant's (the champion's without a challenger). */
function decidingFor(d: Deciding, experiment: Experiment | null, id: string): string {
  return d.challenger !== null && variantOf(experiment, id) === 'challenger' ? d.challenger : d.champion;
}

/**
 * The customers whose deciding models changed: a change of the champion rescores those it
 * decides (everyone at weight 0), a change of the challenger only those it decides before or
 * after (none in shadow: a shadow-only change must not move a tier the CRM sees), a change of
 * the experiment (weight, salt, none) the customers whose variant moved. Marks without the
 * deciding versions (older releases): any change of models, everyone. `before` unknown (a
 * partition never marked): nothing; its customers are assumed decided by what runs.
 */
export function rescoreScope(before: DecidedBy | null, now: DecidedBy): RescoreScope {
  if (before === null) return { kind: 'none' };
  if (before.models === now.models && sameExperiment(before.experiment, now.experiment)) return { kind: 'none' };
  const cause = causeOf(now);
  const was = before.deciding;
  const is = now.deciding;
  if (was === undefined || is === undefined) {
    if (before.models !== now.models) return { kind: 'all', cause };
    const [from, to] = [before.experiment, now.experiment];
    return { kind: 'moved', cause, only: (customerId) => variantMoved(from, to, customerId) };
  }
  // Nobody decided by a challenger (none loaded, or no weight): the champion decides everyone.
  const championOnly = (d: Deciding, e: Experiment | null) =>
    d.challenger === null || e === null || e.challengerWeight <= 0;
  if (championOnly(was, before.experiment) && championOnly(is, now.experiment))
    return was.champion === is.champion ? { kind: 'none' } : { kind: 'all', cause };
  return {
    kind: 'moved',
    cause,
    only: (id) => decidingFor(was, before.experiment, id) !== decidingFor(is, now.experiment, id),
  };
}
