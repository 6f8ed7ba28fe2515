// `churnstream dataset`: the command line of the training-table builder (app/commands/dataset.ts).
import { Command, Option } from 'commander';
import { buildDatasetFile, type DatasetSource } from '../commands/dataset.js';
import { loadConfig } from '../config.js';
import { positiveInt, positiveIntList } from './options.js';

const DATASET_SOURCES: readonly DatasetSource[] = ['uci', 'cdnow', 'csv', 'kafka'];

export function datasetCommand(): Command {
  return new Command('dataset')
    .description('build a point-in-time-correct training table with the streaming feature code')
    .addOption(
      new Option(
        '--source <kind>',
        'format of --input (csv: a generic order CSV, docs/DATASETS.md), or kafka: the orders topic itself',
      )
        .choices(DATASET_SOURCES)
        .makeOptionMandatory(),
    )
    .option('--input <path>', 'order history file (not with --source kafka: it reads CHURNSTREAM_ORDERS_TOPIC)')
    .requiredOption('--out <file.csv>', 'where to write the table')
    .option('--spec-out <file.json>', 'where to write the fitted feature spec', 'feature-spec.json')
    .option('--spec-version <name>', 'version name of the fitted feature spec', 'fitted-1')
    .option('--first <YYYY-MM-DD>', 'first cutoff (default: 90 days after the first event)')
    .option('--every-days <n>', 'days between cutoffs', positiveInt('--every-days'), 30)
    .option('--churn-days <n>', 'churn label horizon', positiveInt('--churn-days'), 90)
    .option(
      '--ltv-days <n,...>',
      'future-spend label horizons, one column each (empty where the window outlasts the data)',
      positiveIntList('--ltv-days'),
      [90, 180, 270, 365],
    )
    .option(
      '--observation-window <days>',
      "the features' window (multiple of 30)",
      positiveInt('--observation-window'),
      180,
    )
    .option('--start-date <YYYY-MM-DD>', 'leave out events before this day')
    .option('--end-date <YYYY-MM-DD>', 'leave out events after this day')
    .option('--fit-until <YYYY-MM-DD>', 'fit fuzzy breakpoints on cutoffs up to this date (default: all but the last)')
    .option(
      '--columns <column=field,...>',
      'for --source csv: read a field from a column named otherwise (docs/DATASETS.md)',
    )
    .option('--no-progress', 'no progress bar')
    .action(
      async (options: {
        source: DatasetSource;
        input?: string;
        out: string;
        specOut: string;
        specVersion: string;
        first?: string;
        everyDays: number;
        churnDays: number;
        ltvDays: number[];
        observationWindow: number;
        startDate?: string;
        endDate?: string;
        fitUntil?: string;
        columns?: string;
        progress: boolean;
      }) => {
        const summary = await buildDatasetFile(
          {
            ...options,
            observationDays: options.observationWindow,
            config: options.source === 'kafka' ? loadConfig() : undefined,
            progress: options.progress && process.stderr.isTTY,
          },
          (line) => console.error(line),
        );
        console.log(
          `${summary.rows} rows, ${summary.customers} customers, cutoffs ${summary.cutoffs[0]}..${summary.cutoffs.at(-1)} (${summary.cutoffs.length}), churn rate ${(summary.churnRate * 100).toFixed(1)}%, data end ${summary.dataEnd}`,
        );
      },
    );
}
