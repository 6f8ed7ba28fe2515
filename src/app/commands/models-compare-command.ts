// `churnstream models compare`: the command line of models-compare.ts. Versions named on the
// command line are checked first (one line, exit 2): the same version twice, a version the
// models directory does not hold, or one no scorer ever resolved a label for would print an
// empty comparison that reads like "not enough labels yet" and hide the typo.
import { Command } from 'commander';
import { listVersions } from '../../adapters/files/model-store.js';
import type { Rollout } from '../../core/experiments/rollout.js';
import { baseVersion } from '../../core/monitoring/recalibration.js';
import { loadConfig } from '../config.js';
import { UserError } from '../user-error.js';
import { modelsDir } from './models-checks.js';
import { type ComparisonReport, compareModels, formatComparison, recalibrations, served } from './models-compare.js';
import { compareLtv, formatLtvComparison, ltvVersions } from './models-compare-ltv.js';
import { printable } from './models-options.js';
import { currentRollout, withStores } from './models-rollout.js';

interface Options {
  readonly champion?: string;
  readonly challenger?: string;
  readonly json: boolean;
}

/** Refuses what cannot be compared before Redis is read. */
export function checkNamed(options: Options, champion: string, challenger: string, dir: string): void {
  if (champion === challenger)
    throw new UserError(`compare: champion and challenger are the same version (${printable(champion)})`);
  // A recalibration keeps its version's ranking: against its own base there is nothing to rank.
  if (baseVersion(champion) === baseVersion(challenger))
    throw new UserError(
      `compare: ${printable(champion)} and ${printable(challenger)} are one model (a recalibration keeps its ranking); compare it with another version`,
    );
  const versions = listVersions(dir, 'churn');
  for (const [option, version] of [
    ['--champion', options.champion],
    ['--challenger', options.challenger],
  ] as const)
    if (version !== undefined && !versions.includes(baseVersion(version)))
      throw new UserError(
        `compare: ${option} ${printable(version)}: no such churn version in ${dir} (there: ${versions.join(', ') || 'none'})`,
      );
}

/**
 * Refuses a named version without a single label. A version the rollout serves recalibrated
 * starts with none of its own; the comparison then uses its pairs before the recalibration.
 */
export function checkLabels(options: Options, report: ComparisonReport, rollout: Rollout): void {
  const recalibrated = recalibrations(rollout);
  for (const [option, name, summary] of [
    ['--champion', options.champion, report.champion],
    ['--challenger', options.challenger, report.challenger],
  ] as const)
    if (name !== undefined && summary.labels === 0 && !recalibrated.has(name))
      throw new UserError(
        baseVersion(name) === name
          ? `compare: ${option} ${printable(name)} has no resolved labels: no scorer has scored it long enough for one to resolve`
          : `compare: ${option} ${printable(name)}: no recalibration of that name is served or has a resolved label (churnstream models log lists the recalibrations)`,
      );
}

export function compareCommand(): Command {
  return new Command('compare')
    .description('champion vs challenger on the labels the stream resolved (AUC difference with a 95% interval)')
    .option('--champion <version>', 'churn version (default: the rollout in force)')
    .option('--challenger <version>', 'churn version (default: the rollout in force)')
    .option('--json', 'one JSON object', false)
    .action(async (options: Options) => {
      const config = loadConfig();
      await withStores(config, async (stores) => {
        const rollout = await currentRollout(config, stores);
        // The LTV side when the challenger brings its own LTV version.
        const versions = ltvVersions(rollout);
        const ltv = versions === null ? null : await compareLtv(stores.health, versions.champion, versions.challenger);
        const named = options.champion !== undefined || options.challenger !== undefined;
        if (!named && rollout.challenger !== null && rollout.challenger.churn === null && ltv !== null) {
          // An LTV-only challenger: its churn model is the champion's, so only the LTV side compares.
          if (options.json) console.log(JSON.stringify({ churn: null, ltv }));
          else
            console.log(
              [
                `churn: the challenger scores churn with the champion's model (${rollout.champion.churn ?? 'newest'}): nothing to compare`,
                ...formatLtvComparison(ltv),
              ].join('\n'),
            );
          return;
        }
        const champion = options.champion ?? served(rollout, rollout.champion.churn);
        const challenger = options.challenger ?? served(rollout, rollout.challenger?.churn ?? null);
        if (champion === null || challenger === null)
          throw new UserError(
            rollout.challenger === null
              ? `no challenger runs (revision ${rollout.revision}): name both versions (--champion, --challenger)`
              : 'name both versions (--champion, --challenger): the rollout does not pin them',
          );
        checkNamed(options, champion, challenger, modelsDir(config));
        const report = await compareModels(stores, champion, challenger, recalibrations(rollout));
        checkLabels(options, report, rollout);
        if (options.json) console.log(JSON.stringify({ ...report, ltv }));
        else console.log([...formatComparison(report), ...(ltv === null ? [] : formatLtvComparison(ltv))].join('\n'));
      });
    });
}
