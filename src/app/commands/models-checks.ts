// What the `models` commands check before a change is written, so that nothing a scorer would
// refuse gets into the rollout (one typo there and every later scorer start exits 2): the next
// rollout's models load as a scorer loads them (ModelRegistry.loadDefaults: the version
// exists, parses, reads the champion's feature spec and label window), a challenger is a
// version of the models directory other than the champion, and `promote` promotes what the
// operator named and does not go against what the labels say.
import { listVersions } from '../../adapters/files/model-store.js';
import { fromPackageRoot } from '../../adapters/files/package-root.js';
import { type ModelPair, promote, type Rollout, withChallenger, withWeight } from '../../core/experiments/rollout.js';
import type { Config } from '../config.js';
import { ModelRegistry } from '../model-registry.js';
import { wantedOf } from '../model-reload.js';
import type { ComparisonStore, ModelHealthStore, RolloutStore } from '../scorer/ports.js';
import { UserError } from '../user-error.js';
import { aucDifference, compareModels, recalibrations, served, VERDICTS } from './models-compare.js';
import { printable } from './models-options.js';

export const modelsDir = (config: Config): string => config.models.dir ?? fromPackageRoot('models');

/** Refuses a rollout a scorer could not load, with the scorer's own reason. */
export function checkLoads(config: Config, next: Rollout, command: string): void {
  try {
    new ModelRegistry(modelsDir(config)).loadDefaults(wantedOf(next));
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    // The registry names the start-up settings to change before a challenger's reason; here
    // the command line is what to change, so the reason alone.
    const reason = error.message.replace(/^challenger \(CHURNSTREAM_CHALLENGER_[^)]*\): /, '');
    throw new UserError(`${command}: a scorer could not load this rollout: ${reason}`);
  }
}

/** A version of `kind` in the models directory other than the champion's (a listed folder only). */
function challengerVersion(config: Config, current: Rollout, kind: 'churn' | 'ltv', name: string): string {
  const shown = printable(name);
  const flag = kind === 'churn' ? '' : ' (--ltv)';
  if (name.trim() === '') throw new UserError(`challenger: name a ${kind} version of the models directory${flag}`);
  if (name === current.champion[kind])
    throw new UserError(`challenger: ${shown} is the champion's ${kind} version${flag}; a challenger is another one`);
  const dir = modelsDir(config);
  const versions = listVersions(dir, kind);
  // Only a listed folder: also keeps out names that reach outside it (../churn/v2).
  if (!versions.includes(name))
    throw new UserError(
      `challenger: no ${kind} version ${shown} in ${dir}${flag} (there: ${versions.join(', ') || 'none'}; CHURNSTREAM_MODELS_DIR)`,
    );
  return name;
}

/**
 * The rollout with `name` as the churn challenger (`none`, any case: no challenger at all;
 * unnamed: the churn challenger in force, or the champion's model for an LTV-only challenger).
 * The LTV challenger is `ltv` when given (`none`: the champion's LTV model), else the one in
 * force: naming a new churn challenger keeps it.
 */
export function challengerChange(config: Config, current: Rollout, name: string | undefined, ltv?: string): Rollout {
  if (name === undefined) return ltvChallengerChange(config, current, ltv);
  if (name.trim() === '') throw new UserError('challenger: name a churn version of the models directory, or none');
  if (name.toLowerCase() === 'none') {
    if (ltv !== undefined) throw new UserError('challenger: none stops the challenger; --ltv names no version then');
    // Stopping nothing would still write a revision (and pin the champion from then on).
    if (current.challenger === null)
      throw new UserError(`challenger: there is no challenger to stop (revision ${current.revision})`);
    return withChallenger(current, null);
  }
  const churn = challengerVersion(config, current, 'churn', name);
  const keptLtv = current.challenger?.ltv ?? null;
  const nextLtv =
    ltv === undefined ? keptLtv : ltv.toLowerCase() === 'none' ? null : challengerVersion(config, current, 'ltv', ltv);
  if (current.challenger?.churn === churn && keptLtv === nextLtv)
    throw new UserError(
      `challenger: ${printable(churn)}${nextLtv === null ? '' : ` with LTV ${printable(nextLtv)}`} is already the challenger (revision ${current.revision})`,
    );
  return withChallenger(current, { churn, ltv: nextLtv });
}

/** `models challenger --ltv <version>`: the LTV side alone, the churn side as it is. */
function ltvChallengerChange(config: Config, current: Rollout, ltv: string | undefined): Rollout {
  if (ltv === undefined)
    throw new UserError(
      'challenger: name a churn version, none, or an LTV version with --ltv (an LTV-only challenger)',
    );
  const churn = current.challenger?.churn ?? null;
  const nextLtv = ltv.toLowerCase() === 'none' ? null : challengerVersion(config, current, 'ltv', ltv);
  if (churn === null && nextLtv === null)
    throw new UserError(
      'challenger: --ltv none leaves a challenger with no model of its own; `models challenger none` stops it',
    );
  if (current.challenger !== null && (current.challenger.ltv ?? null) === nextLtv)
    throw new UserError(
      `challenger: LTV ${printable(nextLtv ?? 'none')} is already the challenger's (revision ${current.revision})`,
    );
  return withChallenger(current, { churn, ltv: nextLtv });
}

const pair = (p: ModelPair | null, champion: ModelPair) =>
  p === null ? 'none' : `${p.churn ?? champion.churn}/${p.ltv ?? champion.ltv}`;

interface PromoteStores {
  readonly rollout: Pick<RolloutStore, 'log'>;
  readonly health: ModelHealthStore;
  readonly comparisons: ComparisonStore;
}

/**
 * The promotion of the challenger. Named (`promote v3`), it is refused unless v3 is the
 * challenger now: a retried or concurrent promote of the same version would otherwise swap
 * the two back. Refused too when the labels say the champion ranks better, unless forced.
 */
export async function promotion(
  stores: PromoteStores,
  current: Rollout,
  expected: string | undefined,
  force: boolean,
): Promise<Rollout> {
  // An LTV-only challenger is named by its LTV version (its churn model is the champion's).
  const kind = current.challenger !== null && current.challenger.churn === null ? 'ltv' : 'churn';
  const challenger = current.challenger?.[kind] ?? null;
  if (expected !== undefined && expected === current.champion[kind]) {
    const log = await stores.rollout.log();
    const made = log.find((e) => e.after.champion[kind] === expected && e.before.champion[kind] !== expected);
    const since =
      made === undefined
        ? `revision ${current.revision}; no promotion in the log made it so`
        : `revision ${made.revision} by ${printable(made.by)}`;
    throw new UserError(`promote: ${printable(expected)} is already the champion (${since}); nothing promoted`);
  }
  if (expected !== undefined && expected !== challenger)
    throw new UserError(
      `promote: the challenger is ${kind === 'ltv' ? `LTV-only, LTV ${printable(challenger ?? 'none')}` : printable(challenger ?? 'none')}, not ${printable(expected)}; nothing promoted`,
    );
  const next = promote(current);
  await checkEvidence(stores, current, force);
  return next;
}

/** What a promotion does, said once it is known to load (before, a refusal would follow it on stdout). */
export const promoting = (current: Rollout): string =>
  `promoting challenger ${printable(pair(current.challenger, current.champion))} over champion ${printable(pair(current.champion, current.champion))} (it stays in shadow)`;

/**
 * A new weight for the challenger. Raising it is refused while the labels say the champion
 * ranks better (the promote guard's reading), unless forced: a weight of 1 would otherwise hand
 * every customer to a model the comparison already rejected. Lowering it is always taken.
 */
export async function weightChange(
  stores: PromoteStores,
  current: Rollout,
  weight: number,
  force: boolean,
): Promise<Rollout> {
  // The same weight again would still write a revision (and a log entry that changed nothing).
  if (weight === current.weight)
    throw new UserError(`weight: the weight is already ${weight} (revision ${current.revision}); nothing changed`);
  const next = withWeight(current, weight);
  const champion = served(current, current.champion.churn);
  const challenger = served(current, current.challenger?.churn ?? null);
  if (next.weight <= current.weight || champion === null || challenger === null || champion === challenger) return next;
  const report = await compareModels(stores, champion, challenger, recalibrations(current));
  if (report.verdict !== 'champion_better') return next;
  const evidence = `${aucDifference(report.paired)} on ${report.paired.positives + report.paired.negatives} paired labels`;
  if (!force)
    throw new UserError(
      `weight: ${VERDICTS.champion_better}: ${evidence}; the weight stays ${current.weight} (--force to give the challenger customers anyway)`,
    );
  console.error(`warning: giving customers to a challenger the labels call worse (--force): ${evidence}`);
  return next;
}

/** What `models compare` says about the two churn versions, as a refusal, a warning or a line. */
async function checkEvidence(stores: PromoteStores, current: Rollout, force: boolean): Promise<void> {
  const champion = served(current, current.champion.churn);
  const challenger = served(current, current.challenger?.churn ?? null);
  // A challenger of the LTV model only: the churn model does not change, nothing to judge.
  if (champion === null || challenger === null || champion === challenger) return;
  const report = await compareModels(stores, champion, challenger, recalibrations(current));
  const labels = report.paired.positives + report.paired.negatives;
  if (labels === 0) {
    console.error('warning: no paired labels yet to judge the challenger by (models compare); promoting anyway');
    return;
  }
  const evidence = `${aucDifference(report.paired)} on ${labels} paired labels`;
  if (report.verdict === 'champion_better') {
    if (!force)
      throw new UserError(
        `promote: ${VERDICTS.champion_better}: ${evidence}; nothing promoted (--force to promote anyway)`,
      );
    console.error(`warning: promoting against the labels (--force): ${evidence}`);
  } else if (report.verdict === 'insufficient') {
    const more = report.moreLabels === null ? '' : `, about ${report.moreLabels} more resolved labels needed`;
    console.error(`warning: the labels cannot tell the two apart yet (${evidence}${more}); promoting anyway`);
  } else console.log(`labels: ${VERDICTS[report.verdict]}: ${evidence}`);
}
