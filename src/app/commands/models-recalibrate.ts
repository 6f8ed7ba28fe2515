// `churnstream models recalibrate`: fits a Platt map on the logit to the labels the stream
// resolved for a churn version (the binned statistics in Redis), checks it on held-out folds
// and, only when it lowers the calibration error there, puts it in the rollout: every scorer
// then serves the version recalibrated (as <version>+cal<revision>, its labels counted apart)
// and rescores its customers, as for any change of models. --remove serves it as shipped again.
import { Command } from 'commander';
import { listVersions } from '../../adapters/files/model-store.js';
import { type Rollout, type RolloutLogEntry, withCalibration } from '../../core/experiments/rollout.js';
import { composePlatt, recalibratedVersion, type StreamCalibration } from '../../core/monitoring/recalibration.js';
import {
  checkRecalibration,
  DEFAULT_RECALIBRATION,
  type RecalibrationCheck,
} from '../../core/monitoring/recalibration-check.js';
import { loadConfig } from '../config.js';
import type { ModelHealthStore } from '../scorer/ports.js';
import { UserError } from '../user-error.js';
import { modelsDir } from './models-checks.js';
import { integerArg, MAX_FOLDS, MAX_LOG_LIMIT, MAX_SEED, printable, withNotes } from './models-options.js';
import { changeRollout, currentRollout, describe, withStores } from './models-rollout.js';

interface Options {
  /** Not --version: the program's own --version (print 0.1.0) would answer instead. */
  readonly churnVersion?: string;
  readonly folds: number;
  readonly seed: number;
  readonly dryRun: boolean;
  readonly remove: boolean;
  readonly json: boolean;
  /** Required for a change; a dry run changes nothing. */
  readonly why?: string;
  readonly by: string;
}

const fixed = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : '-');

const VERDICT: Record<RecalibrationCheck['decision'], string> = {
  apply: 'lowers the calibration error on held-out labels: applied',
  no_gain: 'does not lower the calibration error on held-out labels: not applied',
  insufficient: `too few resolved labels (at least ${DEFAULT_RECALIBRATION.minLabels}, ${DEFAULT_RECALIBRATION.minPerClass} of each outcome): not applied`,
  no_fit: 'no increasing map fits these labels (the scores do not rank them): not applied',
};

export function formatCheck(source: string, check: RecalibrationCheck, folds: number): string[] {
  const map = check.map === null ? 'none' : `a=${check.map.a.toFixed(4)} b=${check.map.b.toFixed(4)}`;
  return [
    `labels of ${source}: ${check.labels} (churned ${check.churned}); map p' = sigmoid(a*logit(p) + b): ${map}`,
    `calibration error on held-out labels (${folds}-fold): before ${fixed(check.heldOut.before)}, after ${fixed(check.heldOut.after)}`,
    `calibration error on the labels fitted on:   before ${fixed(check.inSample.before)}, after ${fixed(check.inSample.after)}`,
  ];
}

/** The calibration to store: this fit after the one in force (maps compose on the logit). */
function nextCalibration(
  previous: StreamCalibration | undefined,
  usedBefore: number,
  check: RecalibrationCheck,
  source: string,
  counts: { positives: number[]; negatives: number[] },
  folds: number,
): StreamCalibration | null {
  if (check.map === null) return null;
  const map = previous === undefined ? check.map : composePlatt(previous, check.map);
  return {
    ...map,
    // Above every revision this version was ever served with: a name reused after a --remove
    // would count the new map's labels with the removed one's.
    revision: Math.max(previous?.revision ?? 0, usedBefore) + 1,
    fittedOn: { version: source, labels: check.labels, churned: check.churned, ...counts },
    heldOut: { ...check.heldOut, folds },
  };
}

/** The highest recalibration revision `version` had in any logged rollout (0: never recalibrated). */
export function usedRevision(log: readonly RolloutLogEntry[], version: string): number {
  let highest = 0;
  for (const entry of log)
    for (const rollout of [entry.before, entry.after])
      highest = Math.max(highest, rollout.calibrations?.[version]?.revision ?? 0);
  return highest;
}

/** The next rollout with the version's new recalibration, or null when none is applied (reported on stdout). */
export async function recalibrate(
  options: Omit<Options, 'why' | 'by'>,
  stores: { readonly health: Pick<ModelHealthStore, 'labelStats'> },
  rollout: Rollout,
  /** The highest recalibration revision the version ever had (the rollout log), 0: none. */
  usedBefore = 0,
): Promise<Rollout | null> {
  const version = options.churnVersion ?? rollout.champion.churn;
  if (version === null) throw new UserError('name the churn version (--churn-version): the rollout does not pin one');
  const previous = rollout.calibrations?.[version];
  if (options.remove) {
    if (previous === undefined) throw new UserError(`churn version ${version} is not recalibrated: nothing to remove`);
    if (options.dryRun) {
      console.log(`would remove the recalibration of ${version} (revision ${previous.revision}): --dry-run`);
      return null;
    }
    console.log(`removing the recalibration of ${version} (revision ${previous.revision})`);
    return withCalibration(rollout, version, null);
  }
  // Labels of the version as served now: refitting a recalibrated one refines its map.
  const source = previous === undefined ? version : recalibratedVersion(version, previous.revision);
  const stats = await stores.health.labelStats(source);
  const check = checkRecalibration(stats, { ...DEFAULT_RECALIBRATION, folds: options.folds, seed: options.seed });
  const counts = { positives: [...stats.positives], negatives: [...stats.negatives] };
  const calibration = nextCalibration(previous, usedBefore, check, source, counts, options.folds);
  // A dry run reports what it would do: "applied" would read as done.
  const verdict =
    check.decision === 'apply' && options.dryRun
      ? 'lowers the calibration error on held-out labels: would be applied (--dry-run: nothing changed)'
      : VERDICT[check.decision];
  if (options.json) console.log(JSON.stringify({ version, source, check, calibration, dryRun: options.dryRun }));
  else console.log([...formatCheck(source, check, options.folds), `verdict: ${verdict}`].join('\n'));
  if (check.decision !== 'apply' || calibration === null || options.dryRun) return null;
  return withCalibration(rollout, version, calibration);
}

export function recalibrateCommand(): Command {
  const command = new Command('recalibrate')
    .description(
      "refit a churn version's calibration on the stream's resolved labels; applied only if it lowers the error on held-out labels",
    )
    .option('--churn-version <version>', 'churn version (default: the champion)')
    .option(
      '--folds <k>',
      `held-out folds (2..${MAX_FOLDS})`,
      integerArg('--folds', 2, MAX_FOLDS),
      DEFAULT_RECALIBRATION.folds,
    )
    .option(
      '--seed <n>',
      'seed of the random split into folds',
      integerArg('--seed', 0, MAX_SEED),
      DEFAULT_RECALIBRATION.seed,
    )
    .option('--dry-run', 'fit and report, change nothing (no --why needed)', false)
    .option('--remove', 'serve the version as its artifact says again', false)
    .option('--json', 'the report as one JSON object', false);
  return withNotes(command, false).action(async (options: Options) => {
    // Checked before Redis is read: a change without its why is refused whatever the fit says.
    if (!options.dryRun && options.why === undefined)
      throw new UserError('recalibrate: --why is required (kept in the rollout log), or --dry-run to look first');
    const config = loadConfig();
    // A typo would fit nothing and read as "too few labels" (exit 0): refused by name first.
    const named = options.churnVersion;
    const dir = modelsDir(config);
    const versions = listVersions(dir, 'churn');
    if (named !== undefined && !versions.includes(named))
      throw new UserError(
        `recalibrate: --churn-version ${printable(named)}: no such churn version in ${dir} (there: ${versions.join(', ') || 'none'})`,
      );
    await withStores(config, async (stores) => {
      const current = await currentRollout(config, stores);
      const version = options.churnVersion ?? current.champion.churn ?? '';
      const next = await recalibrate(
        options,
        stores,
        current,
        usedRevision(await stores.rollout.log(MAX_LOG_LIMIT), version),
      );
      if (next === null) return;
      const note = { action: 'recalibrate' as const, by: options.by, why: options.why ?? '', at: new Date() };
      await changeRollout(stores, current, next, note, config);
      if (options.json) return;
      console.log(printable(`before ${describe(current)}`));
      console.log(printable(`after  ${describe(next)}`));
    });
  });
}
