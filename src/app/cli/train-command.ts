// `churnstream train`: the command line of training on your own history (app/commands/train.ts).
import { Command, Option } from 'commander';
import type { DatasetSource } from '../commands/dataset.js';
import { train } from '../commands/train.js';
import { loadConfig } from '../config.js';
import { positiveInt } from './options.js';

export function trainCommand(): Command {
  return new Command('train')
    .description('train churn and 12-month LTV models on an order history (yours), with a model card')
    .addOption(
      new Option(
        '--source <kind>',
        'format of --input (csv: any order export, docs/DATASETS.md), or kafka: the orders topic',
      )
        .choices(['uci', 'cdnow', 'csv', 'kafka'])
        .makeOptionMandatory(),
    )
    .option('--input <path>', 'order history file (not with --source kafka)')
    .option('--columns <column=field,...>', 'for --source csv: read a field from a column named otherwise')
    .option('--start-date <YYYY-MM-DD>', 'leave out events before this day')
    .option('--end-date <YYYY-MM-DD>', 'leave out events after this day')
    .option(
      '--observation-window <days>',
      "the features' window (multiple of 30)",
      positiveInt('--observation-window'),
      180,
    )
    .option('--first <YYYY-MM-DD>', 'first cutoff (default: 90 days after the first event)')
    .option('--every-days <n>', 'days between cutoffs', positiveInt('--every-days'), 30)
    .option(
      '--churn-days <n>',
      'churn horizon: no order in this many days after the cutoff',
      positiveInt('--churn-days'),
      90,
    )
    .option('--ltv-days <n>', 'LTV horizon the model predicts (365: 12 months)', positiveInt('--ltv-days'), 365)
    .requiredOption('--model-dir <dir>', 'models root: writes <dir>/churn/<version> and <dir>/ltv/<version>')
    .requiredOption('--model-version <name>', 'the new model version, e.g. v2')
    .option('--name <name>', 'short name of the data for reports (default: the version)')
    .option('--report <dir>', 'plots, summary and MODEL_CARD.md (default <model-dir>/reports/<version>)')
    .option('--work-dir <dir>', 'the training table and feature spec (default <report>/data)')
    .option('--force', 'replace an existing version', false)
    .option('--no-progress', 'no progress bar')
    .action(
      async (options: {
        source: DatasetSource;
        input?: string;
        columns?: string;
        startDate?: string;
        endDate?: string;
        observationWindow: number;
        first?: string;
        everyDays: number;
        churnDays: number;
        ltvDays: number;
        modelDir: string;
        modelVersion: string;
        name?: string;
        report?: string;
        workDir?: string;
        force: boolean;
        progress: boolean;
      }) => {
        const summary = await train(
          {
            ...options,
            version: options.modelVersion,
            name: options.name ?? options.modelVersion,
            observationDays: options.observationWindow,
            config: options.source === 'kafka' ? loadConfig() : undefined,
            progress: options.progress && process.stderr.isTTY,
          },
          (line) => console.error(line),
        );
        console.log(`churn model ${summary.churnDir}\nltv model   ${summary.ltvDir}\nmodel card  ${summary.modelCard}`);
      },
    );
}
