// `churnstream train`: a churn and an LTV model from your own order history, in one
// command (the seed's train_churn_model, end to end):
//   1. the training table, built by the streaming feature code (dataset.ts), with the
//      churn label at --churn-days and LTV labels at four horizons up to --ltv-days
//      (the LTV model pools them: training/ltv.py);
//   2. training/train.py: LightGBM churn (out-of-time folds, calibration), the LTV hurdle
//      model, baselines, TypeScript parity; artifacts in <model-dir>/{churn,ltv}/<version>;
//   3. the run's model card (MODEL_CARD.md) and plots in the report folder.
// The scorer loads the result with CHURNSTREAM_MODELS_DIR (the newest version, or the one pinned).
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

function checkOptions(options: TrainOptions): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(options.version))
    throw new TrainError(`--model-version '${options.version}': up to 100 letters, digits, '.', '_' and '-'`);
  // window_months is whole months: a shorter LTV window could not be served.
  if (options.ltvDays < 30) throw new TrainError(`--ltv-days ${options.ltvDays}: at least 30 (one month)`);
  if (options.source !== 'kafka') {
    if (options.input === undefined) throw new TrainError(`--input is required with --source ${options.source}`);
    if (!existsSync(options.input) || !statSync(options.input).isFile())
      throw new TrainError(`--input ${options.input}: no such file`);
  }
}

/** A folder we can write in, or a user error naming it (not a stack trace). */
function writableDir(path: string, option: string): void {
  try {
    mkdirSync(path, { recursive: true });
    accessSync(path, constants.W_OK);
  } catch (error) {
    throw new TrainError(`${option} ${path}: cannot write there (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

/** Moves a finished folder into place, replacing what was there (across file systems too). */
function moveInto(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(dirname(to), { recursive: true });
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    cpSync(from, to, { recursive: true });
  }
}

export async function train(options: TrainOptions, log: (line: string) => void): Promise<TrainSummary> {
  checkOptions(options);
  const modelDir = resolve(options.modelDir);
  const churnDir = join(modelDir, 'churn', options.version);
  const ltvDir = join(modelDir, 'ltv', options.version);
  if (!options.force && (existsSync(churnDir) || existsSync(ltvDir)))
    throw new TrainError(`${churnDir} or ${ltvDir} exists: choose another --model-version, or --force to replace it`);
  const report = resolve(options.report ?? join(modelDir, 'reports', options.version));
  writableDir(modelDir, '--model-dir');
  writableDir(dirname(report), '--report');
  // One run per version at a time; everything is written to a staging folder and moved into place
  // only when the run succeeded, so a failed or refused run leaves the version it replaces intact
  // and never a half-written version the scorer could load.
  const lock = join(modelDir, `.train-${options.version}.lock`);
  try {
    writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
  } catch {
    throw new TrainError(`another run is writing version ${options.version} (${lock}; remove it if that run is gone)`);
  }
  const staging = join(modelDir, `.train-${options.version}-${process.pid}`);
  try {
    const summary = await trainStaged(options, staging, log);
    moveInto(join(staging, 'models', 'churn', options.version), churnDir);
    moveInto(join(staging, 'models', 'ltv', options.version), ltvDir);
    moveInto(join(staging, 'report'), report);
    return { dataset: summary, churnDir, ltvDir, modelCard: join(report, 'MODEL_CARD.md') };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(lock, { force: true });
  }
}

async function trainStaged(options: TrainOptions, staging: string, log: (line: string) => void) {
  const models = join(staging, 'models');
  const report = join(staging, 'report');
  const work = resolve(options.workDir ?? join(report, 'data'));
  mkdirSync(work, { recursive: true });
  mkdirSync(report, { recursive: true });
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
      ...['--dataset', table, '--spec', spec, ...common, '--out', models, '--report', report],
      ...['--churn-days', String(options.churnDays), '--ltv-days', String(options.ltvDays)],
    ]);
    writeFileSync(join(report, 'summary.json'), summary);
    log('3/3 model card');
    const card = await trainer.modelCard([
      '--version',
      options.version,
      '--run',
      `${options.name}=${models}`,
      '--single',
    ]);
    writeFileSync(join(report, 'MODEL_CARD.md'), card);
    return dataset;
  } catch (error) {
    // The trainer's own message went to stderr; its refusals (too little data) are the user's to fix.
    if (error instanceof TrainerError && error.refused) throw new TrainError('training refused: see the line above');
    throw error;
  }
}
