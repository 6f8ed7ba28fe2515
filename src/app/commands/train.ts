// `churnstream train`: a churn and an LTV model from your own order history, in one
// command (the seed's train_churn_model, end to end):
//   1. the training table, built by the streaming feature code (dataset.ts), with the
//      churn label at --churn-days and LTV labels at four horizons up to --ltv-days
//      (the LTV model pools them: training/ltv.py);
//   2. training/train.py: LightGBM churn (out-of-time folds, calibration), the LTV hurdle
//      model, baselines, TypeScript parity; artifacts in <model-dir>/{churn,ltv}/<version>;
//   3. the run's model card (MODEL_CARD.md) and plots in the report folder.
// The scorer loads the result with CHURNSTREAM_MODELS_DIR (the newest version, or the one pinned).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pythonTrainer, TrainerError } from '../../adapters/python/trainer.js';
import { UserError } from '../user-error.js';
import { buildDatasetFile, type DatasetCommandOptions, type DatasetSummary } from './dataset.js';

export class TrainError extends UserError {
  override readonly name = 'TrainError';
}

export interface TrainOptions
  extends Omit<DatasetCommandOptions, 'out' | 'specOut' | 'specVersion' | 'ltvDays' | 'fitUntil'> {
  /** The LTV horizon the model predicts (days; 365 = the 12 months events carry). */
  readonly ltvDays: number;
  readonly modelDir: string;
  readonly version: string;
  /** A short name of the data for reports (default: the version). */
  readonly name: string;
  /** Plots and MODEL_CARD.md (default <model-dir>/reports/<version>). */
  readonly report?: string | undefined;
  /** The table and spec (default <model-dir>/reports/<version>/data). */
  readonly workDir?: string | undefined;
  /** Replace an existing version. */
  readonly force: boolean;
}

/** The LTV label horizons: quarters of the target, the target last (training/ltv.py pools them). */
export const ltvHorizons = (target: number): number[] =>
  [...new Set([1, 2, 3, 4].map((q) => Math.round((target * q) / 4)))].filter((d) => d > 0);

export interface TrainSummary {
  readonly dataset: DatasetSummary;
  readonly churnDir: string;
  readonly ltvDir: string;
  readonly modelCard: string;
}

export async function train(options: TrainOptions, log: (line: string) => void): Promise<TrainSummary> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(options.version))
    throw new TrainError(`--model-version '${options.version}': letters, digits, '.', '_' and '-' only`);
  const modelDir = resolve(options.modelDir);
  const churnDir = join(modelDir, 'churn', options.version);
  const ltvDir = join(modelDir, 'ltv', options.version);
  if (!options.force && (existsSync(churnDir) || existsSync(ltvDir)))
    throw new TrainError(`${churnDir} or ${ltvDir} exists: choose another --model-version, or --force to replace it`);
  const report = resolve(options.report ?? join(modelDir, 'reports', options.version));
  const work = resolve(options.workDir ?? join(report, 'data'));
  mkdirSync(work, { recursive: true });
  const table = join(work, 'dataset.csv');
  const spec = join(work, 'feature-spec.json');

  log(`1/3 training table from ${options.source === 'kafka' ? 'the orders topic' : options.input}`);
  const dataset = await buildDatasetFile(
    {
      ...options,
      ltvDays: ltvHorizons(options.ltvDays),
      out: table,
      specOut: spec,
      specVersion: `${options.name}-${options.version}`,
    },
    log,
  );
  log(
    `   ${dataset.rows} rows, ${dataset.customers} customers, cutoffs ${dataset.cutoffs[0]}..${dataset.cutoffs.at(-1)}`,
  );
  if (dataset.cutoffs.length < 3)
    throw new TrainError(
      `only ${dataset.cutoffs.length} cutoff(s) with a closed ${options.churnDays}-day churn window: out-of-time validation needs at least 3 (more history, a smaller --every-days or --churn-days)`,
    );

  log('2/3 training (training/train.py: LightGBM churn, LTV hurdle model, baselines, parity)');
  const trainer = await pythonTrainer(log);
  const common = ['--name', options.name, '--version', options.version];
  try {
    const summary = await trainer.train([
      ...['--dataset', table, '--spec', spec, ...common, '--out', modelDir, '--report', report],
      ...['--churn-days', String(options.churnDays), '--ltv-days', String(options.ltvDays)],
    ]);
    writeFileSync(join(report, 'summary.json'), summary);
    log('3/3 model card');
    const card = await trainer.modelCard([
      '--version',
      options.version,
      '--run',
      `${options.name}=${modelDir}`,
      '--single',
    ]);
    const modelCard = join(report, 'MODEL_CARD.md');
    writeFileSync(modelCard, card);
    return { dataset, churnDir, ltvDir, modelCard };
  } catch (error) {
    // The trainer's own message went to stderr; its refusals (too little data) are the user's to fix.
    if (error instanceof TrainerError && error.refused) throw new TrainError(`training refused: see the line above`);
    throw error;
  }
}
